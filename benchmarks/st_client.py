"""A headless Streamlit client: speaks the dashboard's own websocket protocol (``/_stcore/stream``,
``BackMsg``/``ForwardMsg`` protobufs from the ``streamlit`` package), so a benchmark or a test can
drive many sessions without a browser.

A :class:`Session` connects with the dashboard's session cookie in the handshake (signed in as the
account whose token it carries), asks for reruns of a page with a query string and widget values,
and times "rerun requested → script finished and all deltas received".
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISHED = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY")
COMPILE_ERROR = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_WITH_COMPILE_ERROR")


@dataclass
class Run:
    """One rerun's outcome: seconds, deltas received, widgets seen (id → element), texts, exceptions."""
    seconds: float
    deltas: int = 0
    widgets: dict = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)


class Session:
    def __init__(self, base_url: str, cookie: str | None = None, cookie_name: str = "danvan_session"):
        self.base = base_url.rstrip("/")
        self.cookie = f"{cookie_name}={cookie}" if cookie else None
        self.ws = None
        self.pages: dict[str, str] = {}     # url path name → page_script_hash
        self.page_hash = ""
        self.widgets: dict[str, WidgetState] = {}

    async def connect(self) -> None:
        url = self.base.replace("http://", "ws://").replace("https://", "wss://") + "/_stcore/stream"
        headers = {"Origin": self.base}
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.ws = await websockets.connect(url, subprotocols=["streamlit"], additional_headers=headers,
                                           max_size=None, open_timeout=30, ping_interval=None)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    def set_widget(self, widget_id: str, **value) -> None:
        """Set a widget's value for the next rerun (``string_value=…``, ``int_value=…``, …)."""
        self.widgets[widget_id] = WidgetState(id=widget_id, **value)

    async def rerun(self, page: str | None = None, query: str = "", timeout: float = 60) -> Run:
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = query
        if page is not None:
            self.page_hash = self.pages.get(page, "")
            cs.page_name = page if not self.page_hash else ""
            self.widgets = {}
        cs.page_script_hash = self.page_hash
        cs.widget_states.widgets.extend(self.widgets.values())
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        run = Run(0.0)
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            kind = fm.WhichOneof("type")
            if kind == "navigation":
                self.pages = {p.url_pathname or p.page_name: p.page_script_hash for p in fm.navigation.app_pages}
                self.page_hash = fm.navigation.page_script_hash or self.page_hash
            elif kind == "new_session":
                self.page_hash = fm.new_session.page_script_hash or self.page_hash
            elif kind == "delta":
                run.deltas += 1
                _collect(fm.delta, run)
            elif kind == "script_finished":
                status = fm.script_finished
                if status == FINISHED_EARLY_FOR_RERUN:
                    continue
                if status == COMPILE_ERROR:
                    run.exceptions.append("compile error")
                break
        run.seconds = time.perf_counter() - started
        return run


FINISHED_EARLY_FOR_RERUN = ForwardMsg.ScriptFinishedStatus.Value("FINISHED_EARLY_FOR_RERUN")


def _collect(delta, run: Run) -> None:
    if delta.WhichOneof("type") != "new_element":
        return
    el = delta.new_element
    kind = el.WhichOneof("type")
    if kind is None:
        return
    body = getattr(el, kind)
    if kind == "exception":
        run.exceptions.append(f"{body.type}: {body.message}")
    elif kind == "alert" and el.alert.format == el.alert.ERROR:
        run.texts.append(body.body)
        run.exceptions.append(f"error box: {body.body[:120]}")
    elif kind in ("markdown", "text", "heading"):
        run.texts.append(getattr(body, "body", ""))
    elif kind == "metric":
        run.texts.append(f"{body.label}: {body.body}")
    elif hasattr(body, "id") and getattr(body, "id", ""):
        run.widgets[body.id] = (kind, body)
