"""Qt table models of the console.

- :class:`RecordModel`: a small list of frozen dataclasses (assistants, guests, programme...),
  sorted in memory when a header is clicked.
- :class:`UsersModel`: every user, 100,000 of them if need be. Only ``Page.total`` is known up
  front; rows are fetched a page at a time in the background when the view first asks for them
  (a windowed cache keyed by page), showing placeholder rows meanwhile. Sorting, search and
  filters run on the database server (``UserQuery``).

Custom roles are module constants (STYLE rule 7).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QAbstractItemView

from admin_console.context import Context
from admin_console.widgets import fmt_datetime, fmt_int
from shared.models import Role
from shared.services import users as users_service
from shared.services.common import Page, UserInfo
from shared.services.users import UserQuery

#: The whole record (a frozen dataclass) of a row.
RECORD_ROLE = Qt.ItemDataRole.UserRole + 1
#: The record's id.
ID_ROLE = Qt.ItemDataRole.UserRole + 2
#: The raw value of a cell (for sorting and tests).
VALUE_ROLE = Qt.ItemDataRole.UserRole + 3
#: True while a row is a placeholder waiting for its page.
LOADING_ROLE = Qt.ItemDataRole.UserRole + 4

R = TypeVar("R")


def selected_record(table: QAbstractItemView, kind: type[R]) -> R | None:
    """The record (RECORD_ROLE) of the table's first selected row, if it is a ``kind``."""
    rows = table.selectionModel().selectedRows()
    record = rows[0].data(RECORD_ROLE) if rows else None
    return record if isinstance(record, kind) else None
AnyIndex = QModelIndex | QPersistentModelIndex
_ROOT = QModelIndex()


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column: its title, how to read its raw value, how to show it."""

    title: str
    value: Callable[[R], Any]
    text: Callable[[Any], str] = str
    numeric: bool = False
    sort_key: str | None = None


def _sortable(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, str):
        return (1, value.casefold())
    return (1, value)


class RecordModel(QAbstractTableModel, Generic[R]):
    """A read-only table of records held in memory."""

    def __init__(self, columns: Sequence[Column[R]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self.records: list[R] = []

    # Qt API --------------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.records)

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.records):
            return None
        record = self.records[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            value = column.value(record)
            return "" if value is None else column.text(value)
        if role == Qt.ItemDataRole.ToolTipRole:
            value = column.value(record)
            return None if value is None else column.text(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == VALUE_ROLE:
            return column.value(record)
        if role == RECORD_ROLE:
            return record
        if role == ID_ROLE:
            return getattr(record, "id", None)
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.columns)
        ):
            return self.columns[section].title
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        getter = self.columns[column].value
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        before = {id(r): i for i, r in enumerate(self.records)}
        self.records.sort(
            key=lambda r: _sortable(getter(r)),
            reverse=order == Qt.SortOrder.DescendingOrder,
        )
        after = {id(r): i for i, r in enumerate(self.records)}
        row_map = {before[k]: after[k] for k in before}
        self.changePersistentIndexList(
            old, [self.index(row_map[i.row()], i.column()) for i in old]
        )
        self.layoutChanged.emit()

    # Ours ----------------------------------------------------------------------------------

    def set_records(self, records: Sequence[R]) -> None:
        self.beginResetModel()
        self.records = list(records)
        self.endResetModel()

    def record(self, row: int) -> R | None:
        return self.records[row] if 0 <= row < len(self.records) else None

    def row_of(self, record_id: int) -> int:
        for row, record in enumerate(self.records):
            if getattr(record, "id", None) == record_id:
                return row
        return -1


# Users --------------------------------------------------------------------------------------

USER_COLUMNS: tuple[Column[UserInfo], ...] = (
    Column("Name", lambda u: u.name, sort_key="name"),
    Column("Username", lambda u: u.username, sort_key="username"),
    Column("Email", lambda u: u.email, sort_key="email"),
    Column(
        "Role",
        lambda u: u.role,
        text=lambda r: "Organizer" if r == Role.ADMIN else "Attendee",
        sort_key="role",
    ),
    Column(
        "Status",
        lambda u: u.active,
        text=lambda a: "Active" if a else "Deactivated",
        sort_key="active",
    ),
    Column("Messages", lambda u: u.message_count, text=fmt_int, numeric=True,
           sort_key="message_count"),
    Column("Created", lambda u: u.created_at, text=fmt_datetime, sort_key="created_at"),
    Column("Last sign-in", lambda u: u.last_login_at, text=fmt_datetime,
           sort_key="last_login_at"),
)
USERS_PAGE = 100
#: Pages kept in memory; older ones are dropped and fetched again when scrolled back to.
USERS_CACHE_PAGES = 40


class UsersModel(QAbstractTableModel):
    """Every user matching a query, loaded a page at a time as the view scrolls."""

    #: A page arrived (its number); tests and the status line listen.
    page_loaded = Signal(int)
    #: The number of matching users changed.
    total_changed = Signal(int)

    def __init__(self, ctx: Context, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.columns = USER_COLUMNS
        self.query = UserQuery()
        self.total = 0
        self.generation = 0
        self.pages: OrderedDict[int, tuple[UserInfo, ...]] = OrderedDict()
        self.pending: set[int] = set()
        self.loaded_once = False
        self.fresh_start = True

    # Qt API --------------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else self.total

    def columnCount(self, parent: AnyIndex = _ROOT) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.total:
            return None
        user = self.user(index.row(), fetch=True)
        if user is None:
            if role == Qt.ItemDataRole.DisplayRole:
                return "Loading…" if index.column() == 0 else ""
            if role == LOADING_ROLE:
                return True
            return None
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            value = column.value(user)
            return "" if value is None else column.text(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and column.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == VALUE_ROLE:
            return column.value(user)
        if role == RECORD_ROLE:
            return user
        if role == ID_ROLE:
            return user.id
        if role == LOADING_ROLE:
            return False
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.columns)
        ):
            return self.columns[section].title
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sorting is done by the database (the whole list, not the rows loaded)."""
        if not 0 <= column < len(self.columns):
            return
        key = self.columns[column].sort_key or "name"
        descending = order == Qt.SortOrder.DescendingOrder
        if (key, descending) != (self.query.sort, self.query.descending):
            self.set_query(replace(self.query, sort=key, descending=descending))

    # Ours ----------------------------------------------------------------------------------

    def user(self, row: int, *, fetch: bool = False) -> UserInfo | None:
        """The user on ``row`` if its page is loaded (asking for the page if ``fetch``)."""
        page, offset = divmod(row, USERS_PAGE)
        items = self.pages.get(page)
        if items is None:
            if fetch:
                self.request(page)
            return None
        self.pages.move_to_end(page)
        return items[offset] if offset < len(items) else None

    def set_query(self, query: UserQuery) -> None:
        """Show the users matching ``query`` (what was loaded is dropped when it arrives)."""
        self.query = query
        if self.ctx.user is not None:
            self.reload()

    def reload(self) -> None:
        """Start over from the first page (a new query); rows stay until the new count arrives."""
        self.generation += 1
        self.pending.clear()
        self.fresh_start = True
        self.request(0, force=True)

    def refresh_rows(self) -> None:
        """Fetch the loaded pages again after a change, in place: the selection and the scroll
        position stay. A changed number of users starts over instead."""
        if not self.loaded_once:
            self.reload()
            return
        self.generation += 1
        self.pending.clear()
        self.fresh_start = False
        for page in list(self.pages) or [0]:
            self.request(page, force=True)

    def request(self, page: int, *, force: bool = False) -> None:
        if page in self.pending or (page in self.pages and not force):
            return
        self.pending.add(page)
        generation, query = self.generation, self.query
        db, actor = self.ctx.database, self.ctx.actor

        def load() -> Page[UserInfo]:
            with db.read() as s:
                return users_service.list_users(
                    s, actor, query, offset=page * USERS_PAGE, limit=USERS_PAGE
                )

        def failed(exc: BaseException) -> None:
            if generation == self.generation:
                self.pending.discard(page)
                self.ctx.report_error(exc)

        self.ctx.run(
            load,
            lambda result: self._arrived(generation, page, result),
            owner=self,
            on_error=failed,
        )

    def _arrived(self, generation: int, page: int, result: Page[UserInfo]) -> None:
        if generation != self.generation:
            return  # an answer to an older query
        self.pending.discard(page)
        if page == 0 and (self.fresh_start or result.total != self.total):
            # A new query, or users were added or removed: start over from this page.
            self.fresh_start = False
            self.beginResetModel()
            self.total = result.total
            self.pages.clear()
            self.pages[0] = result.items
            self.pending.clear()
            self.loaded_once = True
            self.endResetModel()
            self.total_changed.emit(self.total)
        else:
            if result.total != self.total:
                # Users were added or removed meanwhile: reload from the top.
                self.reload()
                return
            self.pages[page] = result.items
            while len(self.pages) > USERS_CACHE_PAGES:
                self.pages.popitem(last=False)
            first = page * USERS_PAGE
            last = min(first + USERS_PAGE, self.total) - 1
            if last >= first:
                self.dataChanged.emit(
                    self.index(first, 0), self.index(last, len(self.columns) - 1)
                )
        self.page_loaded.emit(page)

    def loaded_rows(self) -> int:
        return sum(len(items) for items in self.pages.values())
