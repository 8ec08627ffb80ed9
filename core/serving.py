"""The HTTP prediction API: one saved run (or an ensemble of runs) served to other programs.

`python -m core serve` (core/cli/serve.py) builds the app with `create_app` and runs it with uvicorn.

- `POST /predict`: one image, as an image file (multipart field `file`, or the raw bytes with an
  `image/*` content type) through the Draw page's preprocessing (`digit_from_upload`, its pixel cap),
  or as JSON `{"pixels": 28×28 numbers in [0, 1]}` (`"scale": 255` for 0–255 values). Answers the
  digit, the ten probabilities, the temperature-scaled ones when the run has a temperature, and
  the 28×28 image the model saw.
- `POST /predict/batch`: up to `max_batch` images (multipart fields `files`, or JSON `{"images": [...]}`)
  in one compiled forward pass.
- `GET /model`, `GET /health`; OpenAPI docs at `/docs`.

Bad input is a 4xx with a one-line JSON body `{"error": "..."}`: 400 malformed request, 404 unknown
run or path, 413 too large (bytes or pixels), 415 unsupported content type, 422 not an image, blank,
wrong array shape or values. The model is loaded once, before serving, in Keras' safe mode.

TensorFlow never runs on the event loop. With micro-batching (the default), single-image requests
go to one thread that takes whatever requests are waiting, up to `max_batch`, and runs them as one
batch: no waiting window, so a lone request is not delayed (it takes the one-image LiteRT pass) and
concurrent ones share a pass. Without it, each request runs the one-image pass in Starlette's thread pool.
Image decoding runs in that thread pool too.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import keras
import numpy as np
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse as FastApiJSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException

from core.analysis.calibration import apply_temperature
from core.analysis.inspection import compiled_batch_forward, predict_digit, predict_digits
from core.ensemble import build_ensemble
from core.errors import ImageInputError, ImageTooLargeError
from core.models import INPUT_SHAPE
from core.preprocessing import DEFAULT_MAX_PIXELS, digit_from_upload
from core.record import RunRecord
from core.runs import RunStore

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # per image file, as the dashboard's upload limit (.streamlit/config.toml)
DEFAULT_MAX_BATCH = 64  # images in one /predict/batch call, and in one micro-batch
MAX_BATCH_BYTES = 50 * 1024 * 1024  # a whole /predict/batch request
JSON_SCALES = (1, 255)


class JSONResponse(FastApiJSONResponse):
    """JSON by orjson, numpy arrays included: 40× faster than `json` on a 28×28 image of float32 values."""

    def render(self, content: object) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


class ApiError(Exception):
    """A request the API refuses: its HTTP status and a one-line message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = " ".join(message.split())  # one line, whatever the message held


# ---- the model ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServedModel:
    """The model the server answers with, and what it says about it."""

    model: keras.Model
    run_ids: tuple[str, ...]  # one run, or an ensemble's members
    records: tuple[RunRecord, ...]

    @property
    def label(self) -> str:
        return self.run_ids[0] if len(self.run_ids) == 1 else "ensemble of " + ", ".join(self.run_ids)

    @property
    def temperature(self) -> float | None:
        """The run's fitted temperature; none for an ensemble (its members' temperatures do not combine)."""
        if len(self.records) == 1 and self.records[0].calibration is not None:
            return float(self.records[0].calibration.temperature)
        return None

    def describe(self) -> dict:
        """GET /model: what is served, its test accuracy and the data it was trained on."""
        members = [
            {
                "run_id": run_id,
                "name": record.annotations.name or record.config.name,
                "architecture": record.config.arch,
                "test_accuracy": record.test_metrics.accuracy,
                "test_images": record.test_metrics.count,
                "parameters": record.parameters,
                "created": record.created,
                "uploaded": record.is_uploaded,
                "data": {
                    "source": record.data.source,
                    "description": record.data.description,
                    "train": record.data.train,
                    "train_used": record.data.train_used,
                    "validation": record.data.validation,
                    "test": record.data.test,
                },
                "temperature": record.calibration.temperature if record.calibration else None,
            }
            for run_id, record in zip(self.run_ids, self.records, strict=True)
        ]
        single = len(members) == 1
        return {
            "model": self.label,
            "kind": "run" if single else "ensemble",
            "run_id": self.run_ids[0] if single else None,
            "architecture": members[0]["architecture"] if single else "ensemble",
            "test_accuracy": members[0]["test_accuracy"] if single else None,
            "data": members[0]["data"] if single else None,
            "temperature": self.temperature,
            "members": members,
            "input": "28×28 pixels in [0, 1], white digit on black, centred as MNIST",
        }


def load_served_model(store: RunStore, run_ids: list[str]) -> ServedModel:
    """Load a run (or several, averaged as an ensemble) from the store, once, in Keras' safe mode."""
    infos = [store.get(run_id) for run_id in run_ids]  # an unknown run fails before any model loads
    models = [store.load_model(info.run_id) for info in infos]
    model = models[0] if len(models) == 1 else build_ensemble(models)
    served = ServedModel(model, tuple(info.run_id for info in infos), tuple(info.record for info in infos))
    compiled_batch_forward(model)  # trace both passes now, not on the first request
    predict_digit(model, np.zeros(INPUT_SHAPE, dtype=np.float32))
    return served


# ---- micro-batching ----------------------------------------------------------------------------


@dataclass
class BatchStats:
    batches: int = 0
    images: int = 0
    largest: int = 0


@dataclass
class MicroBatcher:
    """One thread running the model on every single-image request waiting, as one batch.

    It blocks for a first image, then takes the others already queued (up to `max_batch`), so it
    never waits for company: alone, a request runs at once; under load, requests that arrived
    during the previous pass share the next one.
    """

    predict: Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) floats -> (N, 10)
    max_batch: int = DEFAULT_MAX_BATCH
    stats: BatchStats = field(default_factory=BatchStats)
    _queue: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="micro-batcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def submit(self, image: np.ndarray) -> concurrent.futures.Future:
        """The image's probabilities, later."""
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((image, future))
        return future

    def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._run(batch)

    def _run(self, batch: list[tuple[np.ndarray, concurrent.futures.Future]]) -> None:
        live = [(image, future) for image, future in batch if future.set_running_or_notify_cancel()]
        if not live:
            return  # every client went away
        try:
            probabilities = self.predict(np.stack([image for image, _ in live]))
        except BaseException as error:  # noqa: BLE001 - handed to the waiting requests
            for _, future in live:
                future.set_exception(error)
            return
        self.stats.batches += 1
        self.stats.images += len(live)
        self.stats.largest = max(self.stats.largest, len(live))
        for (_, future), row in zip(live, probabilities, strict=True):
            future.set_result(row)


# ---- reading requests --------------------------------------------------------------------------


class PixelsRequest(BaseModel):
    """One image as numbers (the JSON form of POST /predict)."""

    pixels: list[list[float]] = Field(description="28 rows of 28 values, white ink on black")
    scale: int = Field(1, description="1: values in [0, 1]; 255: values in [0, 255]")


class BatchPixelsRequest(BaseModel):
    """Several images as numbers (the JSON form of POST /predict/batch)."""

    images: list[list[list[float]]] = Field(description="images of 28 rows of 28 values")
    scale: int = Field(1, description="1: values in [0, 1]; 255: values in [0, 255]")


class Prediction(BaseModel):
    digit: int
    confidence: float = Field(description="the digit's probability")
    probabilities: list[float] = Field(description="ten probabilities, digit 0 first")
    calibrated_probabilities: list[float] | None = Field(
        description="temperature-scaled probabilities; null when the run has no fitted temperature"
    )
    image: list[list[float]] = Field(description="the 28×28 image the model saw, values in [0, 1]")


class PredictResponse(Prediction):
    model: str
    temperature: float | None


class BatchResponse(BaseModel):
    model: str
    temperature: float | None
    predictions: list[Prediction]


class ErrorResponse(BaseModel):
    error: str


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it passes `limit` bytes, before reading the rest."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, f"the request is {int(declared):,} bytes: the limit is {limit:,}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, f"the request is larger than the limit of {limit:,} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body:
        raise ApiError(400, "the request has no body: send an image file or JSON pixels")
    return body


def _replayed(request: Request, body: bytes) -> Request:
    """A request whose body is `body`, already read, for Starlette's form parser."""

    async def receive() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(request.scope, receive)


async def _uploaded_files(request: Request, body: bytes, max_files: int) -> list[bytes]:
    """The file parts of a multipart body, in order."""
    try:
        form = await _replayed(request, body).form(max_files=max_files, max_fields=max_files)
    except MultiPartException as error:
        raise ApiError(400, f"the multipart form cannot be read: {error}") from error
    try:
        files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
        if not files:
            raise ApiError(422, "the form has no file: send the image in a file field")
        contents = [await upload.read() for upload in files]
    finally:
        await form.close()
    for number, content in enumerate(contents, start=1):
        if len(content) > MAX_UPLOAD_BYTES:
            name = "the file" if len(contents) == 1 else f"file {number}"
            raise ApiError(413, f"{name} is {len(content):,} bytes: the limit is {MAX_UPLOAD_BYTES:,}")
    return contents


def _parse_json(body: bytes) -> dict:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise ApiError(400, f"the body is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise ApiError(400, "the JSON body must be an object")
    return data


def _scale_of(data: dict) -> int:
    scale = data.get("scale", 1)
    if isinstance(scale, bool) or scale not in JSON_SCALES:
        raise ApiError(422, f"scale must be 1 (values in [0, 1]) or 255 (values in [0, 255]), not {scale!r}")
    return int(scale)


def pixels_to_image(pixels: object, scale: int, what: str = "pixels") -> np.ndarray:
    """A 28×28 array of numbers in [0, scale] as the float32 image in [0, 1] the models take; 422 otherwise."""
    try:
        array = np.asarray(pixels)
    except (ValueError, TypeError) as error:  # ragged lists
        raise ApiError(422, f"{what} must be a 28×28 array of numbers (rows of unequal length)") from error
    if array.dtype.kind not in "iuf":
        raise ApiError(422, f"{what} must be a 28×28 array of numbers")
    if array.shape != INPUT_SHAPE:
        shape = "×".join(str(n) for n in array.shape) or "a single number"
        raise ApiError(422, f"{what} must be a 28×28 array, not {shape}")
    values = array.astype(np.float64)
    if not np.isfinite(values).all():
        raise ApiError(422, f"{what} must be finite numbers (no NaN or infinity)")
    low, high = float(values.min()), float(values.max())
    if low < 0 or high > scale:
        raise ApiError(422, f"{what} must lie in [0, {scale}], found values from {low:g} to {high:g}")
    return (values / scale).astype(np.float32)


def image_from_file(data: bytes) -> np.ndarray:
    """An image file through the Draw page's preprocessing; 413 above the pixel cap, 422 for anything unreadable."""
    try:
        return digit_from_upload(data, max_pixels=DEFAULT_MAX_PIXELS)
    except ImageTooLargeError as error:
        raise ApiError(413, str(error)) from error
    except ImageInputError as error:
        raise ApiError(422, str(error)) from error


def _images_from_files(files: list[bytes]) -> list[np.ndarray]:
    images = []
    for number, data in enumerate(files, start=1):
        try:
            images.append(image_from_file(data))
        except ApiError as error:
            if len(files) > 1:
                raise ApiError(error.status, f"file {number}: {error.message}") from error
            raise
    return images


# ---- answers -----------------------------------------------------------------------------------


def prediction(image: np.ndarray, probabilities: np.ndarray, temperature: float | None) -> dict:
    """One image's answer, numpy arrays as they are (the response serialises them)."""
    probabilities = np.asarray(probabilities, dtype=np.float32)
    digit = int(np.argmax(probabilities))
    calibrated = None if temperature is None else apply_temperature(probabilities, temperature).astype(np.float32)
    return {
        "digit": digit,
        "confidence": float(probabilities[digit]),
        "probabilities": probabilities,
        "calibrated_probabilities": calibrated,
        "image": np.ascontiguousarray(image, dtype=np.float32),
    }


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": " ".join(str(message).split())}, status_code=status)


ERROR_RESPONSES = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in (
        (400, "malformed request: no body, invalid JSON, unreadable form"),
        (404, "the `run` asked for is not the one served"),
        (413, "too large: bytes, pixels or images"),
        (415, "neither an image file nor JSON"),
        (422, "not an image, blank, or an array of the wrong shape or values"),
    )
}

SINGLE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
            "image/png": {"schema": {"type": "string", "format": "binary"}},
            "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": PixelsRequest.model_json_schema()},
        },
    }
}
BATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"}}},
                    "required": ["files"],
                }
            },
            "application/json": {"schema": BatchPixelsRequest.model_json_schema()},
        },
    }
}


def predict_waiting(model, images: np.ndarray) -> np.ndarray:
    """The micro-batcher's pass: a lone image through the one-image LiteRT program (several times faster
    than TensorFlow's batch pass for one), several waiting at once as one batch."""
    if len(images) == 1:
        return predict_digit(model, images[0])[None]
    return predict_digits(model, images)


# ---- the app -----------------------------------------------------------------------------------


def create_app(served: ServedModel, *, micro_batching: bool = True, max_batch: int = DEFAULT_MAX_BATCH) -> FastAPI:
    """The ASGI app answering with `served`'s model (loaded already: nothing loads per request)."""
    batcher = MicroBatcher(lambda images: predict_waiting(served.model, images), max_batch) if micro_batching else None

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        if batcher is not None:
            batcher.start()
        try:
            yield
        finally:
            if batcher is not None:
                batcher.stop()

    app = FastAPI(
        default_response_class=JSONResponse,
        title="Digit Lab prediction API",
        summary=f"MNIST digit predictions from {served.label}",
        description=__doc__,
        version="1",
        lifespan=lifespan,
    )

    @app.exception_handler(ApiError)
    async def api_error(_: Request, error: ApiError) -> JSONResponse:
        return error_response(error.status, error.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return error_response(error.status_code, error.detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return error_response(422, f"{where}: {first.get('msg', 'invalid request')}")

    def check_run(run: str | None) -> None:
        if run is not None and run not in served.run_ids and run != served.label:
            raise ApiError(404, f"unknown run {run!r}: this server serves {served.label}")

    async def predict_one(image: np.ndarray) -> np.ndarray:
        if batcher is not None:
            return await asyncio.wrap_future(batcher.submit(image))
        return await run_in_threadpool(predict_digit, served.model, image)

    @app.get("/health", summary="Is the server up, and with which model")
    async def health() -> dict:
        stats = batcher.stats if batcher is not None else None
        return {
            "status": "ok",
            "model": served.label,
            "micro_batching": batcher is not None,
            "batches": stats.batches if stats else None,
            "batched_images": stats.images if stats else None,
            "largest_batch": stats.largest if stats else None,
        }

    @app.get("/model", summary="The model served: run id, architecture, test accuracy, training data")
    async def model_info() -> dict:
        return served.describe()

    @app.post(
        "/predict",
        summary="Predict the digit in one image",
        description=(
            "Send an image file (multipart field `file`, or the raw bytes with an `image/*` content type; any size "
            f"up to {MAX_UPLOAD_BYTES:,} bytes and {DEFAULT_MAX_PIXELS:,} pixels, prepared as the dashboard's Draw "
            'page prepares a photo), or JSON `{"pixels": [[...28 values...], ...28 rows], "scale": 1}`. '
            "`?run=ID` refuses the request (404) unless that run is the one served."
        ),
        response_model=PredictResponse,
        responses=ERROR_RESPONSES,
        openapi_extra=SINGLE_BODY,
    )
    async def predict(request: Request, run: str | None = None) -> JSONResponse:
        check_run(run)
        media = _media_type(request)
        if media == "application/json":
            data = _parse_json(await _read_body(request, MAX_UPLOAD_BYTES))
            if "pixels" not in data:
                raise ApiError(422, 'the JSON object needs "pixels": a 28×28 array')
            image = pixels_to_image(data["pixels"], _scale_of(data))
        elif media == "multipart/form-data":
            body = await _read_body(request, MAX_UPLOAD_BYTES + 64 * 1024)  # the form's own headers
            files = await _uploaded_files(request, body, max_files=1)
            image = await run_in_threadpool(image_from_file, files[0])
        elif media.startswith("image/") or media == "application/octet-stream":
            body = await _read_body(request, MAX_UPLOAD_BYTES)
            image = await run_in_threadpool(image_from_file, body)
        else:
            raise ApiError(415, _unsupported(media))
        probabilities = await predict_one(image)
        answer = prediction(image, probabilities, served.temperature)
        return JSONResponse({"model": served.label, "temperature": served.temperature, **answer})

    @app.post(
        "/predict/batch",
        summary=f"Predict the digits in up to {max_batch} images in one forward pass",
        description=(
            f"Send up to {max_batch} image files (multipart fields `files`; each as for /predict), or JSON "
            '`{"images": [28×28, ...], "scale": 1}`. Answers in the order sent. '
            f"The whole request may hold {MAX_BATCH_BYTES:,} bytes."
        ),
        response_model=BatchResponse,
        responses=ERROR_RESPONSES,
        openapi_extra=BATCH_BODY,
    )
    async def predict_batch(request: Request, run: str | None = None) -> JSONResponse:
        check_run(run)
        media = _media_type(request)
        body = await _read_body(request, MAX_BATCH_BYTES)
        if media == "application/json":
            data = _parse_json(body)
            pixels = data.get("images")
            if not isinstance(pixels, list):
                raise ApiError(422, 'the JSON object needs "images": a list of 28×28 arrays')
            _check_count(len(pixels), max_batch)
            scale = _scale_of(data)
            images = [pixels_to_image(item, scale, f"image {n}") for n, item in enumerate(pixels, start=1)]
        elif media == "multipart/form-data":
            files = await _uploaded_files(request, body, max_files=max_batch + 1)
            _check_count(len(files), max_batch)
            images = await run_in_threadpool(_images_from_files, files)
        else:
            raise ApiError(415, _unsupported(media, batch=True))
        stacked = np.stack(images)
        probabilities = await run_in_threadpool(predict_digits, served.model, stacked)
        answers = [prediction(image, row, served.temperature) for image, row in zip(images, probabilities, strict=True)]
        return JSONResponse({"model": served.label, "temperature": served.temperature, "predictions": answers})

    app.state.batcher = batcher
    return app


def _check_count(count: int, max_batch: int) -> None:
    if count == 0:
        raise ApiError(422, "the batch holds no image")
    if count > max_batch:
        raise ApiError(413, f"the batch holds {count} images: the limit is {max_batch}")


def _unsupported(media: str, batch: bool = False) -> str:
    sent = f"content type {media!r}" if media else "no content type"
    accepted = "multipart/form-data or application/json" if batch else "an image/* file, multipart/form-data or JSON"
    return f"{sent} is not accepted: send {accepted}"
