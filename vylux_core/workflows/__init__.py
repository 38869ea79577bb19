"""The job workflows: what a worker does for each job type, driven through the ports."""

from vylux_core.workflows.audio import AudioTranscodeWorkflow
from vylux_core.workflows.cover import CoverWorkflow
from vylux_core.workflows.full import FullWorkflow
from vylux_core.workflows.preview import PreviewWorkflow
from vylux_core.workflows.registry import build_workflows
from vylux_core.workflows.storyboard import StoryboardWorkflow
from vylux_core.workflows.thumbnail import ThumbnailWorkflow
from vylux_core.workflows.transcode import TranscodeWorkflow

__all__ = [
    "AudioTranscodeWorkflow",
    "CoverWorkflow",
    "FullWorkflow",
    "PreviewWorkflow",
    "StoryboardWorkflow",
    "ThumbnailWorkflow",
    "TranscodeWorkflow",
    "build_workflows",
]
