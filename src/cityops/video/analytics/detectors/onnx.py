"""An ONNX Runtime detector for a YOLO-, YOLOX- or NanoDet-family model the operator provides.

Accepted outputs (one output tensor, batch 1; the layout is recognised from its shape):

- ``yolov5``: [1, N, 5+C], rows (cx, cy, w, h, objectness, C class scores) in input pixels,
  N = 3 anchors x the cells of strides 8/16/32 (YOLOv5/v7 exports, or any decoded export).
- ``yolov8``: [1, 4+C, N], columns (cx, cy, w, h, C class scores) (YOLOv8/v11 exports).
- ``yolox``: [1, N, 5+C] raw head output, N = the cells of strides 8/16/32 (YOLOX's
  ``export_onnx.py`` default): decoded here on the grid (xy + cell) * stride, exp(wh) * stride.
- ``nanodet``: [1, N, C + 32], N = the cells of strides 8/16/32/64, class scores then four
  distance distributions of 8 bins (NanoDet-Plus, reg_max 7): decoded by the softmax integral.

Pre-processing follows each family's training: YOLOv5/v8 RGB / 255 letterboxed in the centre,
YOLOX BGR 0..255 letterboxed at the top left, NanoDet BGR normalised and stretched. Class ids
become names from the model's ``names`` metadata (Ultralytics writes it) or COCO's 80 names,
and names become ``ObjectClass`` through ``NAME_CLASSES``; other classes are dropped.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from cv2.typing import MatLike

from cityops.domain.analytics import ObjectClass
from cityops.video.analytics.detectors.base import DetectorError, overlaps, suppress
from cityops.video.analytics.types import Box, Detection

Floats = npt.NDArray[np.float32]

COCO_NAMES = (
    "person",
    "bicycle",
    "car",
    "motorcycle",
    "airplane",
    "bus",
    "train",
    "truck",
    "boat",
    "traffic_light",
    "fire_hydrant",
    "stop_sign",
    "parking_meter",
    "bench",
    "bird",
    "cat",
    "dog",
    "horse",
    "sheep",
    "cow",
    "elephant",
    "bear",
    "zebra",
    "giraffe",
    "backpack",
    "umbrella",
    "handbag",
    "tie",
    "suitcase",
    "frisbee",
    "skis",
    "snowboard",
    "sports_ball",
    "kite",
    "baseball_bat",
    "baseball_glove",
    "skateboard",
    "surfboard",
    "tennis_racket",
    "bottle",
    "wine_glass",
    "cup",
    "fork",
    "knife",
    "spoon",
    "bowl",
    "banana",
    "apple",
    "sandwich",
    "orange",
    "broccoli",
    "carrot",
    "hot_dog",
    "pizza",
    "donut",
    "cake",
    "chair",
    "couch",
    "potted_plant",
    "bed",
    "dining_table",
    "toilet",
    "tv",
    "laptop",
    "mouse",
    "remote",
    "keyboard",
    "cell_phone",
    "microwave",
    "oven",
    "toaster",
    "sink",
    "refrigerator",
    "book",
    "clock",
    "vase",
    "scissors",
    "teddy_bear",
    "hair_drier",
    "toothbrush",
)

NAME_CLASSES: Mapping[str, ObjectClass] = {
    "person": ObjectClass.PERSON,
    "pedestrian": ObjectClass.PERSON,
    "bicycle": ObjectClass.BICYCLE,
    "car": ObjectClass.VEHICLE,
    "bus": ObjectClass.VEHICLE,
    "truck": ObjectClass.VEHICLE,
    "motorcycle": ObjectClass.VEHICLE,
    "van": ObjectClass.VEHICLE,
}

COCO_CLASSES: Mapping[int, ObjectClass] = {
    i: NAME_CLASSES[n] for i, n in enumerate(COCO_NAMES) if n in NAME_CLASSES
}
"""COCO class id -> ObjectClass: person, bicycle, and car/motorcycle/bus/truck as vehicles."""

NANODET_MEAN = np.array([103.53, 116.28, 123.675], np.float32)
NANODET_STD = np.array([57.375, 57.12, 58.395], np.float32)
NANODET_BINS = 8
"""NanoDet-Plus predicts each side's distance as a distribution over reg_max + 1 = 8 bins."""


class OnnxFormat(StrEnum):
    YOLOV5 = "yolov5"
    YOLOV8 = "yolov8"
    YOLOX = "yolox"
    NANODET = "nanodet"


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How the frame was placed in the model input: input = frame * scale + pad."""

    sx: float
    sy: float
    px: float
    py: float


def _cells(w: int, h: int, strides: Sequence[int]) -> int:
    return sum(-(-w // s) * -(-h // s) for s in strides)


def guess_format(shape: Sequence[int], width: int, height: int) -> OnnxFormat:
    """The output layout from its shape [1, A, B] and the input size: one prediction per cell
    of strides 8/16/32 is YOLOv8 (channels first) or YOLOX (rows), of 8/16/32/64 NanoDet."""
    if len(shape) != 3:
        raise DetectorError(f"unsupported output shape {list(shape)}: expected [1, N, K]")
    _, a, b = shape
    cells = _cells(width, height, (8, 16, 32))
    if b == cells:
        return OnnxFormat.YOLOV8
    if a == cells:
        return OnnxFormat.YOLOX
    if a == _cells(width, height, (8, 16, 32, 64)) and b > NANODET_BINS * 4:
        return OnnxFormat.NANODET
    return OnnxFormat.YOLOV8 if a < b else OnnxFormat.YOLOV5


def class_map_from_names(names: Mapping[int, str]) -> dict[int, ObjectClass]:
    return {i: NAME_CLASSES[n.lower()] for i, n in names.items() if n.lower() in NAME_CLASSES}


class OnnxDetector:
    def __init__(
        self,
        model_path: str | Path,
        *,
        min_confidence: float = 0.5,
        nms_iou: float = 0.45,
        model_format: OnnxFormat | None = None,
        class_map: Mapping[int, ObjectClass] | None = None,
        classes: frozenset[ObjectClass] | None = None,
        threads: int = 1,
    ) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise DetectorError(f"no ONNX model at {path}")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(
                str(path), opts, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own untyped errors
            raise DetectorError(f"cannot load ONNX model {path}: {err}") from err
        inp = self._session.get_inputs()[0]
        self._input = str(inp.name)
        dims = [d if isinstance(d, int) else 640 for d in inp.shape]
        self.input_h, self.input_w = int(dims[2]), int(dims[3])
        out_shape = self._session.get_outputs()[0].shape
        if not all(isinstance(d, int) for d in out_shape):  # dynamic: run once to see it
            blank = np.zeros((1, 3, self.input_h, self.input_w), np.float32)
            out_shape = self._session.run(None, {self._input: blank})[0].shape
        self.format = model_format or guess_format(out_shape, self.input_w, self.input_h)
        self.class_map = dict(class_map) if class_map is not None else self._metadata_classes()
        if classes is not None:  # the classes the camera can see
            self.class_map = {i: c for i, c in self.class_map.items() if c in classes}
        self.min_confidence = min_confidence
        self.nms_iou = nms_iou

    def _metadata_classes(self) -> dict[int, ObjectClass]:
        names = self._session.get_modelmeta().custom_metadata_map.get("names")
        if names:
            try:
                parsed = ast.literal_eval(names)
            except (ValueError, SyntaxError) as err:
                raise DetectorError(f"unreadable 'names' metadata: {names[:80]}") from err
            return class_map_from_names({int(k): str(v) for k, v in dict(parsed).items()})
        return dict(COCO_CLASSES)

    def preprocess(self, frame: MatLike) -> tuple[Floats, Letterbox]:
        """The model input [1, 3, H, W] float32 and where the frame lies in it."""
        h, w = frame.shape[:2]
        if self.format is OnnxFormat.NANODET:
            box = Letterbox(self.input_w / w, self.input_h / h, 0.0, 0.0)
            img = cv2.resize(frame, (self.input_w, self.input_h), interpolation=cv2.INTER_LINEAR)
            x = (img.astype(np.float32) - NANODET_MEAN) / NANODET_STD
            return np.ascontiguousarray(x.transpose(2, 0, 1)[None]), box
        s = min(self.input_w / w, self.input_h / h)
        nw, nh = round(w * s), round(h * s)
        centred = self.format in (OnnxFormat.YOLOV5, OnnxFormat.YOLOV8)
        px = (self.input_w - nw) // 2 if centred else 0
        py = (self.input_h - nh) // 2 if centred else 0
        canvas = np.full((self.input_h, self.input_w, 3), 114, np.uint8)
        canvas[py : py + nh, px : px + nw] = cv2.resize(
            frame, (nw, nh), interpolation=cv2.INTER_LINEAR
        )
        if centred:
            x = cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
        else:
            x = canvas.astype(np.float32)
        return np.ascontiguousarray(x.transpose(2, 0, 1)[None]), Letterbox(s, s, px, py)

    def decode(self, output: Floats) -> tuple[Floats, Floats]:
        """Boxes [M, 4] (x1, y1, x2, y2 in input pixels) and class scores [M, C]."""
        out = output[0].astype(np.float32)
        if self.format is OnnxFormat.YOLOV8:
            out = out.T
            xyxy = _xywh_to_xyxy(out[:, :4])
            return xyxy, out[:, 4:]
        if self.format is OnnxFormat.NANODET:
            return self._decode_nanodet(out)
        if self.format is OnnxFormat.YOLOX:
            grid, strides = _grid(self.input_w, self.input_h, (8, 16, 32))
            xy = (out[:, :2] + grid) * strides
            wh = np.exp(np.minimum(out[:, 2:4], 20.0)) * strides
            out = np.concatenate([xy, wh, out[:, 4:]], axis=1)
        return _xywh_to_xyxy(out[:, :4]), out[:, 5:] * out[:, 4:5]

    def _decode_nanodet(self, out: Floats) -> tuple[Floats, Floats]:
        classes = out.shape[1] - 4 * NANODET_BINS
        scores, dist = out[:, :classes], out[:, classes:].reshape(-1, 4, NANODET_BINS)
        dist = np.exp(dist - dist.max(axis=2, keepdims=True))
        dist /= dist.sum(axis=2, keepdims=True)
        ltrb = (dist * np.arange(NANODET_BINS, dtype=np.float32)).sum(axis=2)
        grid, strides = _grid(self.input_w, self.input_h, (8, 16, 32, 64))
        centres = grid * strides
        ltrb = ltrb * strides
        xyxy = np.concatenate([centres - ltrb[:, :2], centres + ltrb[:, 2:]], axis=1)
        return xyxy.astype(np.float32), scores

    def detect(self, frame: MatLike, regions: Sequence[Box]) -> list[Detection]:
        """Runs the model on the whole frame when anything moved; keeps what overlaps a region."""
        if not regions:
            return []
        x, place = self.preprocess(frame)
        (output,) = self._session.run(None, {self._input: x})[:1]
        xyxy, scores = self.decode(np.asarray(output, np.float32))
        if scores.size == 0:
            return []
        ids = scores.argmax(axis=1)
        best = scores[np.arange(len(ids)), ids]
        keep = best >= self.min_confidence
        h, w = frame.shape[:2]
        boxes, confs, classes = [], [], []
        for (x1, y1, x2, y2), cid, conf in zip(
            xyxy[keep].tolist(), ids[keep].tolist(), best[keep].tolist(), strict=True
        ):
            cls = self.class_map.get(int(cid))
            if cls is None:
                continue
            fx1, fy1 = (x1 - place.px) / place.sx, (y1 - place.py) / place.sy
            fx2, fy2 = (x2 - place.px) / place.sx, (y2 - place.py) / place.sy
            boxes.append((round(fx1), round(fy1), round(fx2 - fx1), round(fy2 - fy1)))
            confs.append(float(conf))
            classes.append(cls)
        found = suppress(
            boxes,
            confs,
            classes,
            width=w,
            height=h,
            min_confidence=self.min_confidence,
            iou=self.nms_iou,
        )
        return [d for d in found if overlaps(d.box, regions)]


def _xywh_to_xyxy(xywh: Floats) -> Floats:
    half = xywh[:, 2:4] / 2
    return np.concatenate([xywh[:, :2] - half, xywh[:, :2] + half], axis=1)


def _grid(width: int, height: int, strides: Sequence[int]) -> tuple[Floats, Floats]:
    """Cell coordinates [N, 2] and their strides [N, 1], stride by stride, row by row."""
    cells, sizes = [], []
    for s in strides:
        ys, xs = np.mgrid[0 : -(-height // s), 0 : -(-width // s)]  # ceil, as NanoDet does
        cells.append(np.stack([xs.ravel(), ys.ravel()], axis=1))
        sizes.append(np.full((xs.size, 1), s))
    return (
        np.concatenate(cells).astype(np.float32),
        np.concatenate(sizes).astype(np.float32),
    )
