"""Table exports shared by every list page: xlsx in constant memory, or CSV streamed (S3: every
export is audited by the caller through ``audited_export``)."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterable, Sequence

import xlsxwriter
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone

from careloop.audit.choices import Action
from careloop.audit.services import record_event

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value):
    """CSV injection: a text cell that a spreadsheet would run as a formula gets a leading
    apostrophe (OWASP); numbers and dates are left alone."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Echo:
    def write(self, value):
        return value


def xlsx_response(
    filename: str, sheet: str, headers: Sequence[str], rows: Iterable[Sequence]
) -> FileResponse:
    tmp = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending
    # Cell text typed by the public (an online complaint's summary) is never a live formula.
    book = xlsxwriter.Workbook(
        tmp, {"constant_memory": True, "in_memory": False, "strings_to_formulas": False}
    )
    ws = book.add_worksheet(sheet[:31])
    bold = book.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
    ws.write_row(0, 0, list(headers), bold)
    ws.freeze_panes(1, 0)
    for i, row in enumerate(rows, start=1):
        ws.write_row(i, 0, ["" if v is None else v for v in row])
    ws.set_column(0, max(len(headers) - 1, 0), 16)
    book.close()
    tmp.seek(0)
    return FileResponse(tmp, as_attachment=True, filename=f"{filename}.xlsx")


def csv_response(
    filename: str, headers: Sequence[str], rows: Iterable[Sequence]
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def stream():
        # The BOM makes Excel on Chinese Windows open UTF-8 correctly.
        yield "\ufeff" + writer.writerow(headers)
        for row in rows:
            yield writer.writerow([_csv_cell(v) for v in row])

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def audited_export(
    request,
    *,
    queryset,
    name: str,
    sheet: str,
    columns: Sequence[tuple[str, Callable]],
):
    """Export ``queryset`` as xlsx (default) or csv (?format=csv), after writing the audit event."""
    fmt = "csv" if request.GET.get("format") == "csv" else "xlsx"
    count = queryset.count()
    record_event(
        Action.EXPORT,
        request=request,
        object_type=queryset.model._meta.label_lower,
        message=f"导出{sheet} {count} 条（{fmt}）",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    headers = [label for label, _fn in columns]
    rows = ([fn(obj) for _label, fn in columns] for obj in queryset.iterator(chunk_size=2000))
    if fmt == "csv":
        return csv_response(f"{name}-{stamp}", headers, rows)
    return xlsx_response(f"{name}-{stamp}", sheet, headers, rows)
