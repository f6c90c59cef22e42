"""The Excel file and the charts of a poll's results, read back as a user would see them."""

from __future__ import annotations

import io
import struct
from datetime import UTC, datetime

from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from bot.i18n import Translator
from handlers.polls.chart import chart_png, question_chart
from handlers.polls.export import poll_workbook
from handlers.polls.results import PollResults, build_results
from storage.models import Poll, PollQuestion, QuestionKind, Unit
from storage.poll_results import Participation, PollCounts, RawAnswer

OPENS = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)  # 01/12/2026 in Hồ Chí Minh City
CLOSES = datetime(2026, 12, 15, 16, 0, tzinfo=UTC)  # 15/12/2026 23:00 there
LONG = "Bạn đánh giá thế nào về các hoạt động của Đoàn trường trong học kỳ này"


def _units() -> list[Unit]:
    units = [Unit(id=1, code="T", name="Đoàn trường Đại học An Phú", kind="school", path="/1/")]
    for i, name in enumerate(["Chi đoàn K60A", "Chi đoàn K60B", "Chi đoàn K61", "Chi đoàn K62"]):
        units.append(
            Unit(id=10 + i, code=f"C{i}", name=name, kind="b", parent_id=1, path=f"/1/{10 + i}/")
        )
    return units


def _questions() -> list[PollQuestion]:
    return [
        PollQuestion(
            id=1,
            poll_id=1,
            position=1,
            kind=QuestionKind.SINGLE,
            text=LONG,
            options=["Rất tốt", "Tốt", "Chưa tốt"],
            allow_other=True,
        ),
        PollQuestion(id=2, poll_id=1, position=2, kind=QuestionKind.SCALE, text=LONG + "?"),
        PollQuestion(id=3, poll_id=1, position=3, kind=QuestionKind.TEXT, text="Góp ý: [tự do]"),
    ]


def _results(anonymous: bool) -> PollResults:
    counts = PollCounts()
    # Question 1, per branch: Rất tốt, Tốt, Chưa tốt, Khác.
    q1 = {10: [12, 6, 3, 0], 11: [9, 7, 0, 0], 12: [2, 1, 0, 0], 13: [1, 1, 0, 0]}
    q2 = {10: [0, 0, 5, 10, 6], 11: [0, 1, 5, 5, 5], 12: [0, 0, 0, 2, 1], 13: [0, 0, 1, 1, 0]}
    for question_id, table in ((1, q1), (2, q2)):
        for unit_id, picked in table.items():
            counts.respondents[(question_id, unit_id)] = sum(picked)
            for option, n in enumerate(picked, start=1):
                if n:
                    counts.choices[(question_id, unit_id, option)] = n
    counts.respondents[(3, 10)] = 14
    counts.participation = {
        10: Participation(30, 28, 21),
        11: Participation(20, 20, 16),
        12: Participation(10, 7, 3),
        13: Participation(9, 9, 2),
    }
    poll = Poll(
        id=1,
        unit_id=1,
        title="Khảo sát tâm tư sinh viên học kỳ I",
        anonymous=anonymous,
        opens_at=OPENS,
        closes_at=CLOSES,
    )
    return build_results(poll, _questions(), _units(), counts)


def _book(data: bytes) -> Workbook:
    return load_workbook(io.BytesIO(data))


def _values(book: Workbook, sheet: str) -> list[list[object]]:
    return [list(row) for row in book[sheet].iter_rows(values_only=True)]


def test_anonymous_workbook_shows_no_small_number() -> None:
    results = _results(anonymous=True)
    raw = [RawAnswer("Nguyễn Văn An", 10, "Chi đoàn K60A", 1, (1,), None, CLOSES)]
    book = _book(poll_workbook(results, _questions(), raw, Translator("vi")))

    names = book.sheetnames
    assert names[0] == "Tổng hợp" and len(names) == 4  # no answers by name in an anonymous poll
    assert all(len(name) <= 31 for name in names)
    assert len({name.casefold() for name in names}) == 4  # two questions start alike
    assert names[1].startswith("Câu 1 Bạn đánh giá") and names[2].startswith("Câu 2 Bạn đánh giá")
    assert names[3] == "Câu 3 Góp ý tự do"  # [ ] are not allowed in a sheet name

    summary = book["Tổng hợp"]
    assert summary["A1"].value == "Khảo sát tâm tư sinh viên học kỳ I"
    assert summary["B3"].value == "Đoàn trường Đại học An Phú"
    assert summary["B4"].value == datetime(2026, 12, 1, 1, 0)  # local time: the 1st, not the 30th
    assert summary["B4"].number_format == "DD/MM/YYYY"
    assert summary["B6"].value == "ẩn danh"
    rows = _values(book, "Tổng hợp")
    head = rows.index(["Đơn vị", "Số người nhận", "Liên lạc được", "Đã trả lời", "Tỉ lệ trả lời"])
    assert summary.cell(row=head + 1, column=1).font.b
    assert rows[head + 1] == ["Tổng", 69, 64, 42, 42 / 69]
    # Who answered is not an answer: a branch's 2 of 9 is shown as it is.
    assert rows[head + 5] == ["Chi đoàn K62", 9, 9, 2, 2 / 9]
    assert summary.cell(row=head + 2, column=5).number_format == "0%"
    assert summary.freeze_panes == f"B{head + 2}"

    first = _values(book, names[1])
    assert first[0][0] == "Câu 1. " + LONG
    assert first[1][0].startswith("«ẩn»: dưới 5 câu trả lời")
    assert first[3] == ["Đơn vị", "Số người trả lời", "Rất tốt", "Tốt", "Chưa tốt", "Khác"]
    by_unit = {row[0]: tuple(row[1:]) for row in first[4:] if row[0]}
    # The 3 "Chưa tốt" is hidden, and so is the 15 "Tốt", or 3 would be 42 − 24 − 15.
    assert by_unit["Tổng"] == (42, 24, "ẩn", "ẩn", 0)
    assert by_unit["Chi đoàn K60A"] == (21, 12, "ẩn", "ẩn", 0)
    # K61 (3) and K62 (2) are too small alone: one merged row of 5.
    assert by_unit["Các đơn vị khác (gộp 2 đơn vị)"][0] == 5
    assert "Chi đoàn K61" not in by_unit and "Chi đoàn K62" not in by_unit
    assert book[names[1]].freeze_panes == "B5"

    for name in names[1:]:
        for row in _values(book, name):
            counts = row[:-1] if name == names[2] else row  # the scale's last column: means
            assert not [v for v in counts if isinstance(v, int | float) and 0 < v < 5], row
    scale = {row[0]: tuple(row[1:]) for row in _values(book, names[2])[4:] if row[0]}
    assert scale["Tổng"][-1] == "ẩn"  # a mean would give a hidden cell away
    assert scale["Chi đoàn K60A"][-1] == round((3 * 5 + 4 * 10 + 5 * 6) / 21, 2)
    assert _values(book, names[3])[3] == ["Đơn vị", "Số người trả lời"]


def test_named_workbook_lists_answers_by_name() -> None:
    results = _results(anonymous=False)
    raw = [
        RawAnswer("Nguyễn Văn An", 10, "Chi đoàn K60A", 1, (4,), "Nhà ở xã hội", CLOSES),
        RawAnswer(None, 11, "Chi đoàn K60B", 2, (5,), None, CLOSES),
        RawAnswer("Lê Thị Bình", 11, "Chi đoàn K60B", 3, (), '=HYPERLINK("x")', None),
    ]
    questions = list(results.questions)  # question results are accepted as well
    book = _book(poll_workbook(results, questions, raw, Translator("vi")))
    assert book.sheetnames[-1] == "Câu trả lời theo tên"
    assert book["Tổng hợp"]["B6"].value == "ghi tên"
    first = {row[0]: tuple(row[1:]) for row in _values(book, book.sheetnames[1])[4:] if row[0]}
    assert first["Chi đoàn K61"] == (3, 2, 1, 0, 0)  # named: every number, every branch
    sheet = book["Câu trả lời theo tên"]
    rows = _values(book, "Câu trả lời theo tên")
    assert rows[0] == ["Họ tên", "Đơn vị", "Câu hỏi", "Trả lời", "Thời gian"]
    assert rows[1][:4] == ["Nguyễn Văn An", "Chi đoàn K60A", "Câu 1. " + LONG, "Khác: Nhà ở xã hội"]
    assert rows[1][4] == datetime(2026, 12, 15, 23, 0)
    assert sheet["E2"].number_format == "DD/MM/YYYY HH:MM"
    assert rows[2][0] == "(đã xóa dữ liệu)" and rows[2][3] == "Mức 5"
    assert rows[3][3] == '=HYPERLINK("x")' and sheet["D4"].data_type == "s"  # text, not a formula
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"


def test_workbook_in_english() -> None:
    book = _book(poll_workbook(_results(anonymous=True), _questions(), None, Translator("en")))
    assert book.sheetnames[0] == "Summary" and book.sheetnames[1].startswith("Q1 ")
    assert book["Summary"]["B6"].value == "anonymous"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_chart_is_a_phone_sized_png_that_grows_with_the_options() -> None:
    few = chart_png("Câu 1", [("Có", 30), ("Không", 12)], "Ẩn danh · 42 người trả lời")
    many = chart_png(
        LONG,
        [(f"Lựa chọn số {i} với một cái tên rất dài cần xuống dòng", 10 * i) for i in range(8)]
        + [("Khác", None)],
        "Ẩn danh · 300 người trả lời",
        total=300,
        hidden_mark="ẩn",
    )
    few_size, many_size = _png_size(few), _png_size(many)
    assert few_size[0] == many_size[0] == 800
    assert many_size[1] > few_size[1] * 1.5


def test_question_chart_only_when_there_is_something_to_show() -> None:
    results = _results(anonymous=True)
    t = Translator("vi")
    png = question_chart(results.questions[0], t, "Đoàn trường · 42 người trả lời")
    assert png is not None and _png_size(png)[0] == 800
    assert question_chart(results.questions[2], t, "") is None  # free text: no bars
