"""The ONNX Runtime detector on tiny models this test builds with ``onnx.helper``: the output
is a fixed tensor plus 0 x the mean of the input, so the model really runs on the
pre-processed frame, and the output holds exactly the rows decoding must find."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from cityops.domain.analytics import DetectorKind, DetectorSpec, ObjectClass
from cityops.video.analytics.detectors import (
    COCO_CLASSES,
    DetectorError,
    OnnxDetector,
    OnnxFormat,
    make_detector,
)
from cityops.video.analytics.types import Box

SIZE = 64  # model input 64 x 64: cells of strides 8/16/32 = 84, with 64 = 85
FRAME = np.full((64, 128, 3), 40, np.uint8)  # 128 x 64: scale 0.5, 32 rows of padding
EVERYWHERE = [Box(0.0, 0.0, 1.0, 1.0)]
P, V, B = ObjectClass.PERSON, ObjectClass.VEHICLE, ObjectClass.BICYCLE


def build(path: Path, output: np.ndarray, names: str | None = None) -> Path:  # type: ignore[type-arg]
    """A model: images [1, 3, 64, 64] -> output = constant + 0 * mean(images)."""
    const = numpy_helper.from_array(output.astype(np.float32), "fixed")
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Constant", [], ["zero"], value_float=0.0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["fixed", "nothing"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, list(output.shape))],
        initializer=[const],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if names is not None:
        helper.set_model_props(model, {"names": names})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def yolov5_rows(classes: int = 80) -> np.ndarray:  # type: ignore[type-arg]
    """[1, 252, 5 + C]: a person, a weaker duplicate of it, a car, a dog, a faint bicycle."""
    out = np.zeros((1, 3 * 84, 5 + classes), np.float32)

    def row(i: int, cx: float, cy: float, w: float, h: float, obj: float, cls: int) -> None:
        out[0, i, :5] = (cx, cy, w, h, obj)
        out[0, i, 5 + cls] = 0.9

    # input pixels: the 128 x 64 frame is 64 x 32 in the input, rows 16..48
    row(0, 16, 28, 8, 16, 0.9, 0)  # person: frame (24, 8)-(40, 40)
    row(1, 17, 28, 8, 16, 0.8, 0)  # the same person again, IoU 0.78: suppressed
    row(2, 40, 32, 16, 8, 0.9, 2)  # car: frame (64, 24)-(96, 40)
    row(3, 50, 20, 8, 8, 0.9, 16)  # dog: not a class CityOps reports
    row(4, 50, 40, 8, 8, 0.3, 1)  # bicycle at 0.27: below min_confidence
    return out


def frame_box(x1: float, y1: float, x2: float, y2: float) -> Box:
    return Box(x1 / 128, y1 / 64, x2 / 128, y2 / 64)


def found(det: OnnxDetector, regions: list[Box] = EVERYWHERE) -> list[tuple[Box, ObjectClass]]:
    result = det.detect(FRAME, regions)
    return sorted(((d.box, d.cls) for d in result), key=lambda x: x[0].x1)


def test_yolov5_layout_letterbox_decode_nms_and_class_map(tmp_path: Path) -> None:
    det = OnnxDetector(build(tmp_path / "v5.onnx", yolov5_rows()), min_confidence=0.5)
    assert det.format is OnnxFormat.YOLOV5
    assert (det.input_w, det.input_h) == (SIZE, SIZE)
    assert found(det) == [
        (frame_box(24, 8, 40, 40), P),
        (frame_box(64, 24, 96, 40), V),
    ]
    scores = sorted(d.score for d in det.detect(FRAME, EVERYWHERE))
    assert scores == pytest.approx([0.81, 0.81])


def test_yolov5_preprocessing_is_a_centred_rgb_letterbox(tmp_path: Path) -> None:
    det = OnnxDetector(build(tmp_path / "v5.onnx", yolov5_rows()))
    frame = np.zeros((64, 128, 3), np.uint8)
    frame[..., 2] = 255  # pure red in BGR
    x, place = det.preprocess(frame)
    assert x.shape == (1, 3, SIZE, SIZE)
    assert x.dtype == np.float32
    assert (place.sx, place.px, place.py) == (0.5, 0, 16)
    assert x[0, :, 0, 0] == pytest.approx([114 / 255] * 3)  # padding above
    assert x[0, :, 32, 32] == pytest.approx([1.0, 0.0, 0.0])  # red first: RGB


def test_detections_outside_the_motion_regions_are_dropped(tmp_path: Path) -> None:
    det = OnnxDetector(build(tmp_path / "v5.onnx", yolov5_rows()))
    assert found(det, [Box(0.45, 0.3, 0.8, 0.7)]) == [(frame_box(64, 24, 96, 40), V)]
    assert det.detect(FRAME, []) == []


def test_yolov8_layout_is_channels_first(tmp_path: Path) -> None:
    out = np.zeros((1, 84, 84), np.float32)  # [1, 4 + 80, N]: one column per cell
    out[0, :4, 5] = (16, 28, 8, 16)
    out[0, 4 + 0, 5] = 0.7
    out[0, :4, 6] = (40, 32, 16, 8)
    out[0, 4 + 7, 6] = 0.95  # truck -> vehicle
    det = OnnxDetector(build(tmp_path / "v8.onnx", out))
    assert det.format is OnnxFormat.YOLOV8
    assert found(det) == [(frame_box(24, 8, 40, 40), P), (frame_box(64, 24, 96, 40), V)]


def test_yolox_raw_head_is_decoded_on_its_grid(tmp_path: Path) -> None:
    out = np.zeros((1, 84, 85), np.float32)
    # stride 8, cell (3, 2) is row 2 * 8 + 3 = 19: centre (3.5, 2.5) * 8, size 2 * 8
    out[0, 19, :5] = (0.5, 0.5, math.log(2.0), math.log(2.0), 0.9)
    out[0, 19, 5 + 3] = 0.9  # motorcycle -> vehicle
    # stride 16 starts at row 64; cell (1, 1) is row 64 + 5: centre (1.5, 1.5) * 16, size 16
    out[0, 69, :5] = (0.5, 0.5, 0.0, 0.0, 0.9)
    out[0, 69, 5 + 1] = 0.9
    det = OnnxDetector(build(tmp_path / "yolox.onnx", out))
    assert det.format is OnnxFormat.YOLOX
    x, place = det.preprocess(FRAME)
    assert (place.px, place.py) == (0, 0)  # YOLOX pads at the bottom right
    assert x[0, :, 0, 0] == pytest.approx([40.0] * 3)  # and takes 0..255
    # input (20, 12)-(36, 28) and (16, 16)-(32, 32), times 2 in the frame
    assert found(det) == [(frame_box(32, 32, 64, 64), B), (frame_box(40, 24, 72, 56), V)]


def test_nanodet_distributions_are_integrated(tmp_path: Path) -> None:
    out = np.zeros((1, 85, 2 + 32), np.float32)  # a 2-class model: 2 scores + 4 x 8 bins
    bins = out[0, 19, 2:].reshape(4, 8)
    bins[:, 2] = 30.0  # each side 2 bins = 16 pixels from the cell at (3, 2) * 8
    out[0, 19, 2:] = bins.reshape(-1)
    out[0, 19, 1] = 0.8
    det = OnnxDetector(build(tmp_path / "nano.onnx", out, names="{0: 'car', 1: 'person'}"))
    assert det.format is OnnxFormat.NANODET
    assert det.class_map == {0: V, 1: P}
    x, place = det.preprocess(FRAME)
    assert (place.sx, place.sy) == (0.5, 1.0)  # stretched, not letterboxed
    assert x[0, 0, 0, 0] == pytest.approx((40 - 103.53) / 57.375)
    # input (8, 0)-(40, 32): frame x / 0.5, y / 1
    assert found(det) == [(frame_box(16, 0, 80, 32), P)]


def test_class_names_from_metadata_and_coco_by_default(tmp_path: Path) -> None:
    assert {i: COCO_CLASSES[i] for i in (0, 1, 2, 3, 5, 7)} == {
        0: P,
        1: B,
        2: V,
        3: V,
        5: V,
        7: V,
    }
    assert 16 not in COCO_CLASSES
    out = yolov5_rows()[:, :, :8].copy()  # the same rows for a model of 3 classes
    out[0, 3:, :] = 0.0
    named = build(tmp_path / "named.onnx", out, names="{0: 'bicycle', 1: 'van', 2: 'car'}")
    det = OnnxDetector(named)
    assert found(det) == [(frame_box(24, 8, 40, 40), B), (frame_box(64, 24, 96, 40), V)]


def test_make_detector_loads_the_operators_file_and_refuses_a_broken_one(tmp_path: Path) -> None:
    path = build(tmp_path / "m.onnx", yolov5_rows())
    det = make_detector(DetectorSpec(kind=DetectorKind.ONNX, model_path=str(path)))
    assert isinstance(det, OnnxDetector)
    assert found(det) == [(frame_box(24, 8, 40, 40), P), (frame_box(64, 24, 96, 40), V)]
    # a camera that can only see vehicles drops the person
    spec = DetectorSpec(kind=DetectorKind.ONNX, model_path=str(path), classes=frozenset({V}))
    vehicles = make_detector(spec)
    assert isinstance(vehicles, OnnxDetector)
    assert found(vehicles) == [(frame_box(64, 24, 96, 40), V)]
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(DetectorError, match="cannot load"):
        OnnxDetector(broken)
