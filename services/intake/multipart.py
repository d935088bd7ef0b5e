"""Reading a multipart letter: Starlette's form parser, held to the limits a letter has.

Starlette stops only at its own limits: a page (a file part) is spooled to disk whatever its size,
and a text part that is not UTF-8 is quietly read as Latin-1, so a letter would arrive as
mojibake. Here a page stops the upload as soon as it passes the page limit, and a text part must
be UTF-8. Built on Starlette's parser callbacks (pinned in uv.lock; tests/unit/intake/test_multipart.py
notices if they change).
"""

from __future__ import annotations

from starlette.datastructures import FormData, Headers
from starlette.formparsers import MultiPartException, MultiPartParser


class PartRefused(MultiPartException):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class LetterFormParser(MultiPartParser):
    def __init__(self, headers: Headers, stream, *, max_files: int, max_fields: int, max_text_bytes: int,
                 max_file_bytes: int) -> None:
        super().__init__(headers, stream, max_files=max_files, max_fields=max_fields, max_part_size=max_text_bytes)
        self.max_file_bytes = max_file_bytes
        self._file_bytes = 0

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self._file_bytes = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current_part.file is not None:
            self._file_bytes += end - start
            if self._file_bytes > self.max_file_bytes:
                raise PartRefused(413, f"a page is larger than {self.max_file_bytes // (1024 * 1024)} MB")
        super().on_part_data(data, start, end)

    def on_part_end(self) -> None:
        if self._current_part.file is None:
            try:
                self._current_part.data.decode("utf-8")
            except UnicodeDecodeError as error:
                raise PartRefused(422, f"the part '{self._current_part.field_name}' is not UTF-8 text") from error
        super().on_part_end()


async def read_letter_form(headers: Headers, stream, **limits: int) -> FormData:
    return await LetterFormParser(headers, stream, **limits).parse()
