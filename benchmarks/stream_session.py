"""A dashboard session driven over Streamlit's websocket, without a browser: what the server sees of a visitor.

The browser sends a `BackMsg` asking for a run (the page, the widgets' values, the fragment to rerun) and
receives `ForwardMsg`s (elements, then "script finished"). This client does the same with Streamlit's own
protobuf classes, so many sessions cost the measuring side almost nothing: `benchmarks.draw_load` uses it
to load the server alone, with no browser rendering in the way. It follows Streamlit's wire format, which
is internal: a Streamlit upgrade may need this file to follow.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import websockets
from PIL import Image, ImageDraw
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

FINAL_STATUSES = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}
CANVAS_SIZE = 280


@dataclass(frozen=True)
class Element:
    """An element a run sent: its type ("button", "html", ...), its proto, and the fragment it belongs to."""

    kind: str
    proto: Any
    fragment_id: str


@dataclass
class StreamSession:
    """One session on the server: a websocket, and the app's pages by name once the first run is done."""

    connection: websockets.ClientConnection
    pages: dict[str, str] = field(default_factory=dict)  # page name → page script hash

    @classmethod
    async def open(cls, url: str) -> tuple[StreamSession, list[ForwardMsg]]:
        """Connect and run the default page, as a browser opening the app does; the session and that run."""
        stream_url = url.replace("http://", "ws://", 1) + "/_stcore/stream"
        connection = await websockets.connect(stream_url, subprotocols=["streamlit"], origin=url, max_size=None)
        session = cls(connection)
        messages = await session.run()
        for message in messages:
            if message.WhichOneof("type") == "navigation":
                session.pages = {page.page_name: page.page_script_hash for page in message.navigation.app_pages}
        return session, messages

    async def run(
        self, page: str = "", widgets: Sequence[dict] = (), fragment_id: str = "", until: Callable | None = None
    ) -> list[ForwardMsg]:
        """Ask for a run of `page` (or of one fragment) with these widget values; its messages, to the end.

        `until(message)`, if given, is called on each message as it arrives (to time one of them).
        """
        request = BackMsg()
        state = request.rerun_script
        state.page_script_hash = self.pages.get(page, "")
        state.fragment_id = fragment_id
        for widget in widgets:
            state.widget_states.widgets.add(**widget)
        await self.connection.send(request.SerializeToString())
        return await self._messages_to_the_end(until)

    async def _messages_to_the_end(self, until: Callable | None) -> list[ForwardMsg]:
        """Messages until a run ends for good (a run that ends early for a rerun is followed by the rerun)."""
        messages = []
        while True:
            message = ForwardMsg()
            message.ParseFromString(await self.connection.recv())
            messages.append(message)
            if until is not None:
                until(message)
            if message.WhichOneof("type") == "script_finished":
                if message.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    raise RuntimeError("the app's script failed to compile")
                if message.script_finished in FINAL_STATUSES:
                    return messages

    async def close(self) -> None:
        await self.connection.close()


def elements(messages: Sequence[ForwardMsg]) -> list[Element]:
    """The elements (not blocks) among a run's messages, in order."""
    found = []
    for message in messages:
        if message.WhichOneof("type") == "delta" and message.delta.WhichOneof("type") == "new_element":
            kind = message.delta.new_element.WhichOneof("type")
            found.append(Element(kind, getattr(message.delta.new_element, kind), message.delta.fragment_id))
    return found


def element(messages: Sequence[ForwardMsg], kind: str, test: Callable[[Any], bool] = lambda proto: True) -> Element:
    """The first element of this kind passing `test`."""
    for candidate in elements(messages):
        if candidate.kind == kind and test(candidate.proto):
            return candidate
    raise LookupError(f"no {kind} element in the run's messages")


def shows_text(message: ForwardMsg, text: str) -> bool:
    """Whether this message adds a markdown or st.html element whose body contains `text`."""
    if message.WhichOneof("type") != "delta" or message.delta.WhichOneof("type") != "new_element":
        return False
    new = message.delta.new_element
    kind = new.WhichOneof("type")
    return kind in ("html", "markdown") and text in getattr(new, kind).body


def canvas_state(points: Sequence[tuple[float, float]], stroke_width: int) -> str:
    """What streamlit-drawable-canvas sends after a stroke: the drawing's JSON and its PNG, white on black."""
    image = Image.new("RGBA", (CANVAS_SIZE, CANVAS_SIZE), (0, 0, 0, 255))
    if points:
        ImageDraw.Draw(image).line(list(points), fill=(255, 255, 255, 255), width=stroke_width, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    objects = (
        [{"type": "Path", "path": [["M", *points[0]], *(["L", *point] for point in points[1:])]}] if points else []
    )
    raw = {"version": "6.7.1", "objects": objects, "background": "#000000"}
    return json.dumps({"drawing": {"raw": raw, "data": data}})
