"""What a job submission may ask for: source size, the large-file queue threshold, the
size of an image rendition."""

from __future__ import annotations

from attrs import Factory, frozen

from vylux_core.images.result_budget import ResultBudget

DEFAULT_MAX_FILE_SIZE = 53_687_091_200  # 50 GiB
DEFAULT_LARGE_FILE_THRESHOLD = 5_368_709_120  # 5 GiB


@frozen(kw_only=True)
class JobLimits:
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    large_file_threshold: int = DEFAULT_LARGE_FILE_THRESHOLD
    image_budget: ResultBudget = Factory(ResultBudget)
