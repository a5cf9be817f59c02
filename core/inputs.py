"""What a model expects as input, and turning raw images into that."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class InputSpec:
    """Input of an image classifier: NCHW float32, built by resize -> center crop -> normalize."""

    channels: int
    height: int
    width: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    resize: int | None = None          # shorter side before the center crop; None = crop/pad only
    interpolation: str = "bilinear"

    def shape(self, batch: int) -> tuple[int, int, int, int]:
        return (batch, self.channels, self.height, self.width)

    def to_dict(self) -> dict:
        return asdict(self)

    def prepare(self, split, indices: np.ndarray) -> np.ndarray:
        """The images at `indices` of a split, preprocessed into one float32 NCHW array."""
        return preprocess(split.images(indices), self)

    item = "image"        # what one input is called in messages
    transformer = False   # quantizers apply their transformer rules to text models only
    fit = None  # every call runs the batch as prepared (a text model's spec pads each call; see core.text.spec)
    # how a model of these inputs is trained again (pruning's recovery, distillation): batch size, peak learning
    # rate, and what is done to each training batch before the call (None: nothing)
    retrain_batch, retrain_lr, retrain_fit = 128, 1e-3, None

    def describe(self, split, indices: np.ndarray, batch: int) -> dict:
        """Nothing to add about images: their shape is the spec's."""
        return {}

    def companion_files(self, folder) -> list:
        """Nothing ships beside an image graph: its preprocessing is in its metadata."""
        return []

    @staticmethod
    def from_dict(data: dict) -> "InputSpec":
        return InputSpec(**{**data, "mean": tuple(data["mean"]), "std": tuple(data["std"])})


def _to_channels(image: np.ndarray, channels: int) -> np.ndarray:
    """HxW or HxWxC uint8 -> HxWxchannels (grey is repeated, colour is reduced by luminance)."""
    if image.ndim == 2:
        image = image[:, :, None]
    have = image.shape[2]
    if have == 4:
        image, have = image[:, :, :3], 3
    if have == channels:
        return image
    if have == 1:
        return np.repeat(image, channels, axis=2)
    if channels == 1:
        grey = image[:, :, :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        return grey.round().clip(0, 255).astype(np.uint8)[:, :, None]
    raise ValueError(f"cannot turn a {have}-channel image into {channels} channels")


def preprocess(images: list[np.ndarray], spec: InputSpec) -> np.ndarray:
    """Turn uint8 images (HxW or HxWxC) into a normalized float32 NCHW batch for `spec`."""
    import torch
    import torchvision.transforms.v2.functional as F
    from torchvision.transforms import InterpolationMode

    if _is_plain_batch(images, spec):
        batch = np.stack([_to_channels(image, spec.channels) for image in images]).astype(np.float32) / 255.0
        mean = np.asarray(spec.mean, np.float32)
        std = np.asarray(spec.std, np.float32)
        return np.ascontiguousarray(((batch - mean) / std).transpose(0, 3, 1, 2))

    mode = InterpolationMode(spec.interpolation)
    out = np.empty(spec.shape(len(images)), dtype=np.float32)
    mean = torch.tensor(spec.mean, dtype=torch.float32).view(-1, 1, 1)
    std = torch.tensor(spec.std, dtype=torch.float32).view(-1, 1, 1)
    for i, image in enumerate(images):
        chw = torch.from_numpy(np.ascontiguousarray(_to_channels(image, spec.channels))).permute(2, 0, 1)
        if spec.resize is not None:
            chw = F.resize(chw, [spec.resize], interpolation=mode, antialias=True)
        if chw.shape[1:] != (spec.height, spec.width):
            if spec.resize is None and min(chw.shape[1:]) < min(spec.height, spec.width):
                chw = F.resize(chw, [spec.height, spec.width], interpolation=mode, antialias=True)
            chw = F.center_crop(chw, [spec.height, spec.width])
        out[i] = ((chw.float() / 255.0 - mean) / std).numpy()
    return out


def _is_plain_batch(images: list[np.ndarray], spec: InputSpec) -> bool:
    """True when images already have the model's size, so no resize or crop is needed."""
    return spec.resize is None and all(image.shape[:2] == (spec.height, spec.width) for image in images)


def feeds(names: list[str], batch: np.ndarray) -> dict[str, np.ndarray]:
    """A graph's named inputs for one batch: the batch itself for a one-input graph (images as float32), or a
    packed text batch split into the inputs the graph declares (`core.text.tokens.unpack`)."""
    from core.text.tokens import unpack

    if len(names) == 1:
        return {names[0]: np.ascontiguousarray(batch, dtype=np.float32 if batch.dtype.kind == "f" else batch.dtype)}
    return unpack(batch, names)
