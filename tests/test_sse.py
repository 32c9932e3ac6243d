"""The event-stream parser fed bytes the way sockets deliver them: split anywhere."""

import json

import pytest

from contract import validate_against
from imagesynth import errors as E
from imagesynth.protocol import EventStreamParser

B64 = "iVBORw0KGgo" + "A" * 200 + "=="


def ev(type_, **kw):
    base = dict(type=type_, b64_json=B64, created_at=1, size="1024x1024", quality="high", background="opaque",
                output_format="png")
    base.update(kw)
    return base


PARTIAL0 = ev("image_generation.partial_image", partial_image_index=0)
PARTIAL1 = ev("image_generation.partial_image", partial_image_index=1)
USAGE = {"total_tokens": 10, "input_tokens": 4, "output_tokens": 6,
         "input_tokens_details": {"text_tokens": 4, "image_tokens": 0}}
DONE = ev("image_generation.completed", usage=USAGE)


def sse(*events, eol="\n", comments=True, event_names=True):
    out = []
    if comments:
        out.append(": keep-alive" + eol)
    for e in events:
        if event_names:
            out.append(f"event: {e['type']}{eol}")
        out.append(f"data: {json.dumps(e, ensure_ascii=False)}{eol}{eol}")
    return "".join(out).encode()


def test_fixture_events_match_the_contract():
    validate_against("ImageGenStreamEvent", PARTIAL0)
    validate_against("ImageGenStreamEvent", DONE)
    validate_against("ImageEditStreamEvent", ev("image_edit.partial_image", partial_image_index=2))


def run(chunks, **kw):
    p = EventStreamParser(**kw)
    out = []
    for c in chunks:
        out += p.feed(c)
    return out + p.close()


def test_whole_stream():
    events = run([sse(PARTIAL0, PARTIAL1, DONE)])
    assert [(e.kind, e.partial_index) for e in events] == [("partial", 0), ("partial", 1), ("completed", None)]
    assert all(e.b64 == B64 for e in events)
    assert events[-1].usage == USAGE and events[-1].output_format == "png" and events[-1].size == "1024x1024"


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_every_byte_boundary(eol):
    data = sse(PARTIAL0, ev("image_edit.partial_image", partial_image_index=1),
               ev("image_edit.completed", usage=USAGE), eol=eol)
    expected = [(e.kind, e.partial_index, e.type) for e in run([data])]
    assert len(expected) == 3
    for cut in range(len(data) + 1):
        got = run([data[:cut], data[cut:]])
        assert [(e.kind, e.partial_index, e.type) for e in got] == expected, cut


def test_byte_at_a_time_crlf():
    data = sse(PARTIAL0, DONE, eol="\r\n")
    events = run([data[i:i + 1] for i in range(len(data))])
    assert [e.kind for e in events] == ["partial", "completed"] and events[1].b64 == B64


def test_multiline_data_and_no_space_after_colon():
    body = json.dumps(DONE, indent=1).replace("\n", "\ndata:")
    data = ("data:" + body + "\n\n").encode()
    events = run([data])
    assert len(events) == 1 and events[0].kind == "completed"


def test_type_from_event_name_and_unknown_events_ignored():
    payload = {k: v for k, v in DONE.items() if k != "type"}
    data = (f"event: image_generation.completed\ndata: {json.dumps(payload)}\n\n"
            "event: image_generation.something_new\ndata: {\"x\": 1}\n\n"
            "id: 7\nretry: 1000\n\ndata: [DONE]\n\n").encode()
    events = run([data])
    assert [e.kind for e in events] == ["completed"]


def test_last_event_without_blank_line_is_delivered_on_close():
    data = sse(DONE, comments=False)[:-1]  # one newline short
    p = EventStreamParser()
    assert p.feed(data) == []
    assert [e.kind for e in p.close()] == ["completed"] and p.completed == 1


def test_utf8_split_across_chunks():
    e = ev("image_generation.completed", usage=USAGE, revised_prompt="café ☕")
    data = sse(e)
    cut = data.index("☕".encode()) + 1  # inside the 3-byte sequence
    events = run([data[:cut], data[cut:]])
    assert events[0].revised_prompt == "café ☕"


def test_error_event_moderation_output():
    err = {"type": "error", "error": {"type": "image_generation_user_error", "code": "moderation_blocked",
                                      "message": "The generated image was rejected by the safety system.",
                                      "param": None}}
    data = sse(PARTIAL0) + f"event: error\ndata: {json.dumps(err)}\n\n".encode()
    p = EventStreamParser(model="gpt-image-1", request_id="req_s")
    with pytest.raises(E.ModerationError) as exc:
        for i in range(len(data)):
            p.feed(data[i:i + 1])
    assert exc.value.stage == "output" and exc.value.request_id == "req_s" and exc.value.code == "moderation_blocked"
    assert p.partials == 1


@pytest.mark.parametrize("payload, cls", [
    ({"error": {"code": "rate_limit_exceeded", "message": "slow"}}, E.RateLimitError),
    ({"error": {"code": "insufficient_quota", "message": "no money"}}, E.QuotaExceededError),
    ({"error": {"type": "server_error", "message": "oops"}}, E.ServerError),
    ({"type": "error", "code": "moderation_blocked", "message": "Rejected", "param": "prompt"}, E.ModerationError),
    ({"error": {"code": "invalid_value", "message": "bad", "param": "size"}}, E.BadRequestError),
])
def test_error_events_are_typed(payload, cls):
    data = f"event: error\ndata: {json.dumps(payload)}\n\n".encode()
    with pytest.raises(cls):
        run([data])


def test_garbage_events():
    with pytest.raises(E.ResponseError, match="not JSON"):
        run([b"data: {not json\n\n"])
    with pytest.raises(E.ResponseError, match="without an image"):
        run([b'data: {"type": "image_generation.completed"}\n\n'])
    with pytest.raises(ValueError):
        p = EventStreamParser()
        p.close()
        p.feed(b"x")


def test_large_line_in_small_chunks_is_linear():
    big = ev("image_generation.completed", usage=USAGE, b64_json="A" * 3_000_000)
    data = sse(big)
    p = EventStreamParser()
    out = []
    for i in range(0, len(data), 1024):
        out += p.feed(data[i:i + 1024])
    assert len(out) == 1 and len(out[0].b64) == 3_000_000


def test_crlf_split_between_cr_and_lf_with_multiline_data_and_named_events():
    # A CR at a chunk's end must wait for the next byte: taken as a line end on
    # its own, the LF after it would be a blank line and cut the event in two.
    payload = {k: v for k, v in DONE.items() if k != "type"}
    body = json.dumps(payload, indent=1).replace("\n", "\r\ndata: ")
    data = f"event: image_generation.completed\r\ndata: {body}\r\n\r\n".encode()
    for cut in range(len(data) + 1):
        got = run([data[:cut], data[cut:]])
        assert [e.type for e in got] == ["image_generation.completed"], cut
