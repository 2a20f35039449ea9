"""The dashboard: the figures at a glance, activity charts, what attendees ask (and what the
assistant could not answer), the latest assistants. Refreshes by itself, never two at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from PySide6.QtCharts import (
    QAreaSeries,
    QChart,
    QChartView,
    QDateTimeAxis,
    QLineSeries,
    QValueAxis,
)
from PySide6.QtCore import QDate, QDateTime, QMargins, Qt, QTime, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from admin_console.context import Changed, Context
from admin_console.models import Column, RecordModel
from admin_console.views.base import ChatbotPicker, View
from admin_console.widgets import FigureCard, fmt_date, fmt_datetime, fmt_int, make_table
from shared.services import chatbots, stats, transcripts
from shared.services.chatbots import ChatbotDetail
from shared.services.stats import DashboardFigures
from shared.services.transcripts import QuestionCount, UnansweredQuestion
from shared.ui.theme import palette

REFRESH_MS = 30_000
DAYS = 30
RECENT = 8

FIGURES: tuple[tuple[str, str], ...] = (
    ("total_chatbots", "Assistants"),
    ("active_chatbots", "Active assistants"),
    ("upcoming_events", "Upcoming events"),
    ("total_users", "Users"),
    ("active_users", "Active users"),
    ("total_messages", "Messages"),
    ("messages_today", "Messages today"),
)


@dataclass(frozen=True)
class DashboardData:
    """Everything the dashboard shows, loaded in one background call."""

    figures: DashboardFigures
    messages: list[tuple[date, int]]
    new_users: list[tuple[date, int]]
    top: list[QuestionCount]
    unanswered: tuple[UnansweredQuestion, ...]
    recent: list[ChatbotDetail]
    loaded_at: datetime


def load_dashboard(ctx: Context, chatbot_id: int | None) -> DashboardData:
    """The dashboard's data: counters, the daily rollup and indexed windows (no big counts)."""
    db, actor = ctx.database, ctx.actor
    with db.read() as s:
        figures = stats.dashboard(s, actor)
        messages = stats.messages_per_day(s, actor, days=DAYS, chatbot_id=chatbot_id)
        new_users = stats.new_users_per_day(s, actor, days=DAYS)
        top = transcripts.top_questions(s, actor, chatbot_id=chatbot_id, days=DAYS, limit=10)
        unanswered = transcripts.unanswered_questions(
            s, actor, chatbot_id=chatbot_id, days=DAYS, limit=10
        ).items
        recent = chatbots.list_for_organizers(s, actor)[:RECENT]
    return DashboardData(figures, messages, new_users, top, unanswered, recent, datetime.now())


class DayChart(QChartView):
    """Counts per day as a filled line over a date axis."""

    def __init__(self, title: str, theme: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dayChart")
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(240)
        self.setMaximumHeight(300)
        self.chart_ = QChart()
        self.chart_.setTitle(title)
        self.chart_.legend().hide()
        self.chart_.setMargins(QMargins(6, 6, 6, 6))
        self.chart_.setBackgroundRoundness(6)
        # The area series owns its two line series (Qt does not), and the chart owns the area:
        # the whole tree is deleted by Qt, in order, never half by Python's garbage collector.
        self.area = QAreaSeries()
        self.counts = QLineSeries(self.area)
        self.baseline = QLineSeries(self.area)
        self.area.setUpperSeries(self.counts)
        self.area.setLowerSeries(self.baseline)
        self.chart_.addSeries(self.area)
        self.x_axis = QDateTimeAxis()
        self.x_axis.setFormat("d MMM")
        self.x_axis.setTickCount(6)
        self.y_axis = QValueAxis()
        self.y_axis.setLabelFormat("%d")
        self.y_axis.setMin(0)
        self.chart_.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart_.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        self.area.attachAxis(self.x_axis)
        self.area.attachAxis(self.y_axis)
        self.setChart(self.chart_)
        self.points: list[tuple[date, int]] = []
        self.apply_theme(theme)

    def apply_theme(self, theme: str) -> None:
        c = palette(theme)
        self.chart_.setBackgroundBrush(QBrush(QColor(c["surface"])))
        self.chart_.setPlotAreaBackgroundVisible(False)
        title_font = QFont(self.font())
        title_font.setPixelSize(14)
        title_font.setBold(True)
        self.chart_.setTitleFont(title_font)
        self.chart_.setTitleBrush(QBrush(QColor(c["text"])))
        accent = QColor(c["accent"])
        self.area.setPen(QPen(accent, 2))
        fill = QColor(accent)
        fill.setAlpha(60)
        self.area.setBrush(QBrush(fill))
        for axis in (self.x_axis, self.y_axis):
            axis.setLabelsBrush(QBrush(QColor(c["muted"])))
            axis.setGridLineColor(QColor(c["border"]))
            axis.setLinePenColor(QColor(c["border"]))
        self.setBackgroundBrush(QBrush(QColor(c["surface"])))

    def set_points(self, points: list[tuple[date, int]]) -> None:
        self.points = points
        self.counts.clear()
        self.baseline.clear()
        for day, n in points:
            # a step per day, so one busy day reads as a bar, not a spike
            start = _qdatetime(datetime.combine(day, time(0))).toMSecsSinceEpoch()
            end = start + 86_400_000 - 1
            for ms in (start, end):
                self.counts.append(ms, n)
                self.baseline.append(ms, 0)
        if points:
            first = _qdatetime(datetime.combine(points[0][0], time(0)))
            last = _qdatetime(datetime.combine(points[-1][0], time(23, 59)))
            self.x_axis.setRange(first, last)
        top = max((n for _d, n in points), default=0)
        self.y_axis.setRange(0, max(4, top))
        self.y_axis.applyNiceNumbers()
        self.y_axis.setLabelFormat("%d")


def _panel(title: str, body: QWidget, extra: QWidget | None = None) -> QFrame:
    frame = QFrame()
    frame.setObjectName("panel")
    column = QVBoxLayout(frame)
    column.setContentsMargins(14, 12, 14, 12)
    row = QHBoxLayout()
    label = QLabel(title)
    label.setObjectName("sectionTitle")
    row.addWidget(label)
    row.addStretch(1)
    if extra is not None:
        row.addWidget(extra)
    column.addLayout(row)
    column.addWidget(body, 1)
    return frame


class DashboardView(View):
    """The overview organizers open first."""

    title = "Dashboard"
    watches = Changed.CHATBOTS | Changed.USERS | Changed.MESSAGES | Changed.GUESTS

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.data: DashboardData | None = None
        self.pending = False
        self.refreshes = 0

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        outer.addWidget(scroll)
        body = QWidget()
        body.setObjectName("viewBody")
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(16)

        header = QHBoxLayout()
        title = QLabel(self.tr("Dashboard"))
        title.setObjectName("viewTitle")
        header.addWidget(title)
        header.addStretch(1)
        self.updated = QLabel()
        self.updated.setProperty("role", "muted")
        header.addWidget(self.updated)
        self.refresh_button = QPushButton(self.tr("Refresh"))
        self.refresh_button.setToolTip(self.tr("Refresh now (F5); it also refreshes every 30 s"))
        self.refresh_button.clicked.connect(self.refresh)
        header.addWidget(self.refresh_button)
        layout.addLayout(header)

        cards = QGridLayout()
        cards.setSpacing(12)
        self.cards: dict[str, FigureCard] = {}
        for i, (key, label) in enumerate(FIGURES):
            card = FigureCard(self.tr(label))
            self.cards[key] = card
            cards.addWidget(card, 0, i)
        layout.addLayout(cards)

        self.picker = ChatbotPicker(ctx, allow_all=True)
        self.picker.chosen.connect(lambda _id: self.refresh())
        self.messages_chart = DayChart(self.tr("Messages per day (last 30 days)"), ctx.theme)
        self.users_chart = DayChart(self.tr("New users per day (last 30 days)"), ctx.theme)
        charts = QHBoxLayout()
        charts.setSpacing(12)
        charts.addWidget(
            _panel(self.tr("Activity"), self.messages_chart, self.picker), 3
        )
        charts.addWidget(_panel(self.tr("Sign-ups"), self.users_chart), 2)
        layout.addLayout(charts)

        self.top_model: RecordModel[QuestionCount] = RecordModel(
            [
                Column("Question", lambda q: q.question),
                Column("Asked", lambda q: q.count, text=fmt_int, numeric=True),
                Column("Last asked", lambda q: q.last_asked_at, text=fmt_datetime),
            ],
            self,
        )
        self.unanswered_model: RecordModel[UnansweredQuestion] = RecordModel(
            [
                Column("Question", lambda q: q.question),
                Column("Answer given", lambda q: q.reply),
                Column("Asked", lambda q: q.asked_at, text=fmt_datetime),
            ],
            self,
        )
        self.recent_model: RecordModel[ChatbotDetail] = RecordModel(
            [
                Column("Assistant", lambda b: b.name),
                Column("Event", lambda b: b.event_name),
                Column("Status", lambda b: b.status.value, text=str.capitalize),
                Column("Starts", lambda b: b.start_date, text=fmt_date),
                Column("Ends", lambda b: b.end_date, text=fmt_date),
                Column("Participants", lambda b: b.participant_count, text=fmt_int,
                       numeric=True),
                Column("Messages", lambda b: b.message_count, text=fmt_int, numeric=True),
            ],
            self,
        )
        self.top_table = make_table(stretch_column=0)
        self.top_table.setModel(self.top_model)
        self.unanswered_table = make_table(stretch_column=0)
        self.unanswered_table.setModel(self.unanswered_model)
        self.recent_table = make_table(stretch_column=1)
        self.recent_table.setModel(self.recent_model)
        for table in (self.top_table, self.unanswered_table):
            table.setMinimumHeight(220)
        self.recent_table.setMinimumHeight(240)
        questions = QHBoxLayout()
        questions.setSpacing(12)
        questions.addWidget(_panel(self.tr("Most asked questions"), self.top_table), 1)
        questions.addWidget(
            _panel(self.tr("Questions the assistant could not answer"), self.unanswered_table), 1
        )
        layout.addLayout(questions)
        layout.addWidget(_panel(self.tr("Latest assistants"), self.recent_table))

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self._tick)
        ctx.signed_in.connect(self._signed_in)
        ctx.signed_out.connect(self.timer.stop)
        ctx.theme_changed.connect(self._theme)

    def _signed_in(self) -> None:
        self.picker.reload()
        self.timer.start()

    def _tick(self) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self.stale = True

    def _theme(self, theme: str) -> None:
        self.messages_chart.apply_theme(theme)
        self.users_chart.apply_theme(theme)

    def refresh(self) -> None:
        """Reload in the background; a refresh asked for meanwhile runs once this one is done."""
        if self.ctx.user is None:
            return
        if self.loading:
            self.pending = True
            return
        self.stale = False
        self.loading = True
        self.pending = False
        self.refresh_button.setEnabled(False)
        chatbot_id = self.picker.current_id()
        ctx = self.ctx

        def failed(exc: BaseException) -> None:
            self._finished()
            ctx.report_error(exc, self)

        ctx.run(lambda: load_dashboard(ctx, chatbot_id), self._show, owner=self, on_error=failed)

    def _finished(self) -> None:
        self.loading = False
        self.refresh_button.setEnabled(True)
        if self.pending:
            self.refresh()

    def _show(self, data: DashboardData) -> None:
        self.data = data
        self.refreshes += 1
        for key, card in self.cards.items():
            card.set_value(int(getattr(data.figures, key)))
        self.messages_chart.set_points(data.messages)
        self.users_chart.set_points(data.new_users)
        self.top_model.set_records(data.top)
        self.unanswered_model.set_records(list(data.unanswered))
        self.recent_model.set_records(data.recent)
        self.top_table.resizeColumnToContents(1)
        self.top_table.setColumnWidth(2, 140)
        self.unanswered_table.setColumnWidth(1, 190)
        self.unanswered_table.setColumnWidth(2, 135)
        self.recent_table.resizeColumnsToContents()
        self.updated.setText(self.tr("Updated {0}").format(data.loaded_at.strftime("%H:%M:%S")))
        self._finished()


def _qdatetime(value: datetime) -> QDateTime:
    """A local QDateTime for a naive datetime (the chart's axis is in local days)."""
    return QDateTime(
        QDate(value.year, value.month, value.day),
        QTime(value.hour, value.minute, value.second),
    )
