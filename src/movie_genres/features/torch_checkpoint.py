"""Reading torch's legacy checkpoint format with `pickle` and numpy alone, so torch never enters the project.

The legacy format (torch.save before 1.6, or with _use_new_zipfile_serialization=False) is a
sequence of pickles: a magic number, the protocol version, system info, the object itself (its
tensors point at storages through pickle's persistent ids), the list of storage keys, and then
each storage's raw bytes in that order, each preceded by its element count as an int64.
"""

from __future__ import annotations

import collections
import io
import pickle
from pathlib import Path
from typing import Any

import numpy as np


class CheckpointError(ValueError):
    """The file is not a legacy-format torch state dict this reader understands."""


_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001
_STORAGE_DTYPES = {
    "DoubleStorage": np.float64,
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _Storage:
    def __init__(self, dtype: np.dtype, size: int) -> None:
        self.dtype, self.size = dtype, size
        self.data: np.ndarray | None = None


class _TensorRef:
    """A tensor as the pickle describes it; its storage's bytes come later in the file."""

    def __init__(self, storage: _Storage, offset: int, shape: tuple[int, ...], stride: tuple[int, ...]) -> None:
        self.storage, self.offset, self.shape, self.stride = storage, offset, shape, stride

    def to_numpy(self) -> np.ndarray:
        data = self.storage.data
        assert data is not None
        strides = tuple(s * data.itemsize for s in self.stride)
        return np.lib.stride_tricks.as_strided(data[self.offset :], self.shape, strides).copy()


def _rebuild_tensor_v2(storage: _Storage, offset: int, shape: tuple, stride: tuple, *_: Any) -> _TensorRef:
    return _TensorRef(storage, offset, tuple(shape), tuple(stride))


class _LegacyTorchUnpickler(pickle.Unpickler):
    """Resolves only what a state dict needs: anything else in the file is refused, not executed."""

    _CLASSES = {
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        **{("torch", name): np.dtype(dtype) for name, dtype in _STORAGE_DTYPES.items()},
    }

    def __init__(self, file: io.BufferedReader) -> None:
        super().__init__(file)
        self.storages: dict[str, _Storage] = {}

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._CLASSES[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"unsupported object in checkpoint: {module}.{name}") from None

    def persistent_load(self, pid: Any) -> _Storage:
        kind, dtype, key, _location, size, view = pid
        if kind != "storage" or view is not None:
            raise pickle.UnpicklingError(f"unsupported storage reference in checkpoint: {pid!r}")
        return self.storages.setdefault(key, _Storage(dtype, size))


def read_legacy_torch_state_dict(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a legacy-format torch state dict, by name, in file order, as numpy arrays."""
    with open(path, "rb") as f:
        if pickle.load(f) != _LEGACY_MAGIC:
            raise CheckpointError(f"{path} is not a legacy-format torch checkpoint")
        if pickle.load(f) != _LEGACY_PROTOCOL:
            raise CheckpointError(f"{path}: unsupported torch checkpoint protocol")
        if not pickle.load(f).get("little_endian", False):
            raise CheckpointError(f"{path}: big-endian checkpoints are not supported")
        unpickler = _LegacyTorchUnpickler(f)
        state = unpickler.load()
        for key in pickle.load(f):
            storage = unpickler.storages[key]
            (count,) = np.frombuffer(f.read(8), "<i8")
            if count != storage.size:
                raise CheckpointError(f"{path}: storage {key} holds {count} values, expected {storage.size}")
            dtype = storage.dtype.newbyteorder("<")
            storage.data = np.frombuffer(f.read(int(count) * dtype.itemsize), dtype)
    return {name: tensor.to_numpy() for name, tensor in state.items()}
