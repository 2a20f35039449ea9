"""Guests of an assistant (speakers, moderators): the list, the edit dialog with a photo."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QImage, QImageReader, QImageWriter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from admin_console.context import Changed, Context
from admin_console.dialogs import EditDialog
from admin_console.models import Column, RecordModel, selected_record
from admin_console.views.base import ChatbotPicker, View
from admin_console.widgets import SearchField, heading, make_table, muted
from shared.errors import ValidationError
from shared.services import guests
from shared.services.guests import GuestDetail, Photo

#: Photos are scaled down to fit this square before they are stored.
PHOTO_MAX_SIDE = 512
#: Files larger than this are refused before decoding (a decompression bomb guard).
PHOTO_FILE_MAX = 20 * 1024 * 1024


def prepare_photo(path: str) -> bytes:
    """Read an image file, check it, scale it to at most 512 px and re-encode it (PNG when it has
    transparency, else JPEG): what gets stored is small, clean and of a known type.
    Runs on a worker thread (QImage, unlike QPixmap, may)."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    if not reader.canRead():
        raise ValidationError("This file is not an image the console can read.", "photo")
    size = reader.size()
    if size.isValid() and size.width() * size.height() > 60_000_000:
        raise ValidationError("This image is too large (more than 60 megapixels).", "photo")
    try:
        if os.path.getsize(path) > PHOTO_FILE_MAX:
            raise ValidationError("This file is too large (more than 20 MB).", "photo")
    except OSError as exc:
        raise ValidationError(f"Cannot read the file: {exc.strerror}.", "photo") from None
    image = reader.read()
    if image.isNull():
        raise ValidationError(
            f"This image cannot be read ({reader.errorString()}).", "photo"
        )
    if max(image.width(), image.height()) > PHOTO_MAX_SIDE:
        image = image.scaled(
            PHOTO_MAX_SIDE,
            PHOTO_MAX_SIDE,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
    fmt = "PNG" if image.hasAlphaChannel() else "JPEG"
    if fmt == "JPEG":
        image = image.convertToFormat(QImage.Format.Format_RGB32)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buffer, QByteArray(fmt.encode("ascii")))
    if fmt == "JPEG":
        writer.setQuality(88)
    if not writer.write(image):
        raise ValidationError(
            f"The photo could not be converted ({writer.errorString()}).", "photo"
        )
    buffer.close()
    return bytes(data.data())


GUEST_COLUMNS: tuple[Column[GuestDetail], ...] = (
    Column("Name", lambda g: g.name),
    Column("Title", lambda g: g.title),
    Column("Organization", lambda g: g.organization),
    Column(
        "Roles",
        lambda g: " + ".join(
            r for r, on in (("Speaker", g.is_speaker), ("Moderator", g.is_moderator)) if on
        ),
    ),
    Column("Photo", lambda g: g.has_photo, text=lambda v: "Yes" if v else "—"),
    Column("Email", lambda g: g.email),
)


class GuestDialog(EditDialog):
    """Create or edit a guest, with an optional photo."""

    changes = Changed.GUESTS

    def __init__(
        self, ctx: Context, chatbot_id: int, guest: GuestDetail | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ctx, ctx.tr("Edit guest") if guest else ctx.tr("New guest"), parent)
        self.chatbot_id = chatbot_id
        self.guest = guest
        #: New photo bytes to store; None: keep; b"": remove.
        self.new_photo: bytes | None = None
        self.name = QLineEdit(guest.name if guest else "")
        self.title_edit = QLineEdit(guest.title if guest else "")
        self.organization = QLineEdit(guest.organization if guest else "")
        self.email = QLineEdit((guest.email or "") if guest else "")
        self.email.setPlaceholderText(self.tr("optional; organizers only"))
        self.description = QPlainTextEdit(guest.description if guest else "")
        self.description.setMinimumHeight(120)
        self.speaker = QCheckBox(self.tr("Speaker"))
        self.speaker.setChecked(guest.is_speaker if guest else True)
        self.moderator = QCheckBox(self.tr("Moderator"))
        self.moderator.setChecked(guest.is_moderator if guest else False)
        roles = QHBoxLayout()
        roles.addWidget(self.speaker)
        roles.addWidget(self.moderator)
        roles.addStretch(1)
        photo_row = QHBoxLayout()
        self.photo_label = QLabel(self.tr("No photo"))
        self.photo_label.setObjectName("photoPreview")
        self.photo_label.setFixedSize(120, 120)
        self.photo_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        photo_row.addWidget(self.photo_label, 0, Qt.AlignmentFlag.AlignTop)
        buttons = QVBoxLayout()
        self.choose_button = QPushButton(self.tr("Choose photo…"))
        self.choose_button.clicked.connect(self.choose_photo)
        self.remove_button = QPushButton(self.tr("Remove photo"))
        self.remove_button.clicked.connect(self.remove_photo)
        self.remove_button.setEnabled(bool(guest and guest.has_photo))
        buttons.addWidget(self.choose_button, 0, Qt.AlignmentFlag.AlignLeft)
        buttons.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignLeft)
        buttons.addWidget(muted(self.tr("PNG, JPEG or WebP; scaled to 512 px.")))
        buttons.addStretch(1)
        photo_row.addLayout(buttons, 1)
        self.add("name", self.name, self.tr("Name"))
        self.add("title", self.title_edit, self.tr("Title"))
        self.add("organization", self.organization, self.tr("Organization"))
        self.add("email", self.email, self.tr("Email"))
        self.add("is_speaker", roles, self.tr("Roles"))
        self.add("description", self.description, self.tr("Bio"))
        self.add("photo", photo_row, self.tr("Photo"))
        self.resize(620, 640)
        if guest is not None and guest.has_photo:
            self._load_photo(guest.id)

    def _load_photo(self, guest_id: int) -> None:
        db, actor = self.ctx.database, self.ctx.actor

        def load() -> Photo | None:
            with db.read() as s:
                return guests.photo(s, actor, guest_id)

        self.ctx.run(load, lambda p: self._show_photo(p.data if p else None), owner=self)

    def _show_photo(self, data: bytes | None) -> None:
        if not data:
            self.photo_label.setPixmap(QPixmap())
            self.photo_label.setText(self.tr("No photo"))
            return
        pixmap = QPixmap()
        pixmap.loadFromData(data)
        self.photo_label.setPixmap(
            pixmap.scaled(
                120, 120, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def choose_photo(self) -> None:
        path = self.ctx.dialogs.open_image(self)
        if not path:
            return
        self.choose_button.setEnabled(False)
        self.errors.clear()

        def done(data: bytes) -> None:
            self.choose_button.setEnabled(True)
            self.new_photo = data
            self.remove_button.setEnabled(True)
            self._show_photo(data)

        def failed(exc: BaseException) -> None:
            self.choose_button.setEnabled(True)
            self.errors.show(exc)

        self.ctx.run(lambda: prepare_photo(path), done, owner=self, on_error=failed)

    def remove_photo(self) -> None:
        self.new_photo = b""
        self.remove_button.setEnabled(False)
        self._show_photo(None)

    def work(self) -> Callable[[], GuestDetail]:
        db, actor = self.ctx.database, self.ctx.actor
        values: dict[str, Any] = {
            "name": self.name.text(),
            "title": self.title_edit.text(),
            "organization": self.organization.text(),
            "email": self.email.text().strip() or None,
            "description": self.description.toPlainText(),
            "is_speaker": self.speaker.isChecked(),
            "is_moderator": self.moderator.isChecked(),
        }
        guest_id, chatbot_id, photo = (self.guest.id if self.guest else None), self.chatbot_id, \
            self.new_photo

        def save() -> GuestDetail:
            with db.session() as s:
                if guest_id is None:
                    saved = guests.create(s, actor, chatbot_id, **values)
                else:
                    saved = guests.update_guest(s, actor, guest_id, **values)
                if photo:
                    saved = guests.set_photo(s, actor, saved.id, photo)
                elif photo == b"":
                    saved = guests.remove_photo(s, actor, saved.id)
                return saved

        return save

    def success_message(self, result: Any) -> str:
        return self.tr("Guest {0} saved.").format(result.name)


class GuestsView(View):
    """The guests of the assistant chosen at the top."""

    title = "Guests"
    watches = Changed.GUESTS | Changed.CHATBOTS

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.dialog: GuestDialog | None = None
        self.model: RecordModel[GuestDetail] = RecordModel(GUEST_COLUMNS, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 20)
        layout.setSpacing(12)
        top = QHBoxLayout()
        top.addWidget(heading(self.tr("Guests")))
        self.picker = ChatbotPicker(ctx)
        self.picker.chosen.connect(lambda _id: self.refresh())
        top.addWidget(self.picker)
        top.addStretch(1)
        self.search = SearchField(self.tr("Search guests (Ctrl+F)"))
        self.search.setFixedWidth(240)
        self.search.search.connect(lambda _t: self.refresh())
        top.addWidget(self.search)
        self.new_button = QPushButton(self.tr("New guest"))
        self.new_button.setObjectName("primary")
        self.new_button.clicked.connect(self.new_item)
        self.edit_button = QPushButton(self.tr("Edit"))
        self.edit_button.clicked.connect(self.edit_selected)
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.setObjectName("danger")
        self.delete_button.clicked.connect(self.delete_selected)
        for button in (self.new_button, self.edit_button, self.delete_button):
            top.addWidget(button)
        layout.addLayout(top)
        self.table = make_table(stretch_column=5)
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.doubleClicked.connect(lambda _i: self.edit_selected())
        layout.addWidget(self.table, 1)
        self.empty = muted("")
        layout.addWidget(self.empty)
        ctx.signed_in.connect(self.picker.reload)

    def selected(self) -> GuestDetail | None:
        return selected_record(self.table, GuestDetail)

    def refresh(self) -> None:
        if self.ctx.user is None:
            return
        super().refresh()
        chatbot_id = self.picker.current_id()
        self.new_button.setEnabled(chatbot_id is not None)
        if chatbot_id is None:
            self.model.set_records([])
            self.empty.setText(
                self.tr("Create an assistant first; guests belong to an assistant.")
                if self.picker.loaded else ""
            )
            return
        db, actor, term = self.ctx.database, self.ctx.actor, self.search.text().strip()

        def load() -> list[GuestDetail]:
            with db.read() as s:
                return guests.list_for_organizers(s, actor, chatbot_id, search=term)

        def show(found: list[GuestDetail]) -> None:
            header = self.table.horizontalHeader()
            self.model.set_records(found)
            self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
            self.table.resizeColumnsToContents()
            self.empty.setText(
                self.tr("{0} guest(s).").format(len(found)) if found
                else self.tr("No guests yet: add the speakers and moderators (Ctrl+N).")
            )

        self.ctx.run(load, show, owner=self)

    def focus_search(self) -> None:
        self.search.setFocus()

    def new_item(self) -> None:
        chatbot_id = self.picker.current_id()
        if chatbot_id is not None:
            self._open(chatbot_id, None)

    def edit_selected(self) -> None:
        guest = self.selected()
        if guest is not None:
            self._open(guest.chatbot_id, guest)

    def _open(self, chatbot_id: int, guest: GuestDetail | None) -> None:
        self.dialog = GuestDialog(self.ctx, chatbot_id, guest, self)
        self.dialog.open()

    def delete_selected(self) -> None:
        guest = self.selected()
        if guest is None:
            return
        if not self.ctx.dialogs.confirm(
            self,
            self.tr("Delete {0}?").format(guest.name),
            self.tr(
                "The guest, their photo and their place on the programme's sessions are removed "
                "(the sessions stay). This cannot be undone."
            ),
        ):
            return
        db, actor = self.ctx.database, self.ctx.actor

        def delete() -> None:
            with db.session() as s:
                guests.delete_guest(s, actor, guest.id)

        self.ctx.run(
            delete,
            lambda _r: self.ctx.announce(
                Changed.GUESTS | Changed.AGENDA, self.tr("Guest {0} deleted.").format(guest.name)
            ),
            owner=self,
        )
