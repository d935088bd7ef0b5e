"""A multipart letter is read with a letter's limits: pages stop at their size, text must be UTF-8."""

from __future__ import annotations

import pytest
from starlette.datastructures import Headers, UploadFile

from services.intake.multipart import PartRefused, read_letter_form

BOUNDARY = "b0undary"
HEADERS = Headers({"content-type": f"multipart/form-data; boundary={BOUNDARY}"})
LIMITS = {"max_files": 3, "max_fields": 2, "max_text_bytes": 1024, "max_file_bytes": 1000}

pytestmark = pytest.mark.unit


def text_part(name: str, value: bytes) -> bytes:
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"


def file_part(name: str, value: bytes) -> bytes:
    return (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="p.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n").encode() + value + b"\r\n"


class Chunks:
    """The request body in 100-byte chunks, counting how many were read."""

    def __init__(self, body: bytes) -> None:
        self.chunks = [body[i:i + 100] for i in range(0, len(body), 100)]
        self.read = 0

    async def __aiter__(self):
        for chunk in self.chunks:
            self.read += 1
            yield chunk


async def test_a_letter_and_its_pages_are_read():
    body = text_part("letter", '{"body": "Здравствуйте"}'.encode()) + file_part("pages", b"\xff\xd8" * 400)
    form = await read_letter_form(HEADERS, Chunks(body + f"--{BOUNDARY}--\r\n".encode()), **LIMITS)
    try:
        assert form["letter"] == '{"body": "Здравствуйте"}'
        page = form["pages"]
        assert isinstance(page, UploadFile) and await page.read() == b"\xff\xd8" * 400
    finally:
        await form.close()


async def test_a_page_past_its_limit_stops_the_upload_there():
    body = text_part("letter", b"{}") + file_part("pages", b"\xff" * 50_000) + f"--{BOUNDARY}--\r\n".encode()
    stream = Chunks(body)
    with pytest.raises(PartRefused) as refused:
        await read_letter_form(HEADERS, stream, **LIMITS)
    assert refused.value.status == 413
    assert stream.read < len(stream.chunks) / 10


async def test_a_text_part_that_is_not_utf8_is_refused_instead_of_read_as_latin1():
    body = text_part("letter", '{"body": "Оксана"}'.encode("cp1251")) + f"--{BOUNDARY}--\r\n".encode()
    with pytest.raises(PartRefused) as refused:
        await read_letter_form(HEADERS, Chunks(body), **LIMITS)
    assert refused.value.status == 422 and "'letter'" in refused.value.message
