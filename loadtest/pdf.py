"""A minimal PDF writer for test and demo material (slides for presenting): pages of drawing
operators, written by hand so that no PDF library is needed to make one (pypdfium2 reads them)."""

from __future__ import annotations

import io


def pdf_document(contents: list[bytes], *, width: int, height: int, resources: str = "") -> bytes:
    """A valid PDF with one page per content stream, each `width` x `height` points; `resources` is
    the pages' /Resources dictionary (fonts), if their operators need one."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(contents)))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(contents)} >>".encode())
    extra = f" /Resources {resources}" if resources else ""
    for i, content in enumerate(contents):
        page = f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}]{extra} /Contents {4 + 2 * i} 0 R >>"
        objects.append(page.encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()
