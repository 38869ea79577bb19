"""libvips adapters: the image processor behind ``/img`` and ``image:thumbnail``."""

from vylux_adapters.vips.image_processor import PyvipsImageProcessor, transform_sync
from vylux_adapters.vips.limits import TRUSTED_LOADERS, VipsLimits

__all__ = ["TRUSTED_LOADERS", "PyvipsImageProcessor", "VipsLimits", "transform_sync"]
