"""The small world the fake Telegram server knows: users, chats, members, topics.

Everything serialises to the JSON shapes of the Bot API, complete enough that the real
python-telegram-bot deserialises it (required fields included).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any, Literal

ChatType = Literal["private", "group", "supergroup", "channel"]
MemberStatus = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]
JSON = dict[str, Any]

ADMIN_RIGHTS = (
    "can_manage_chat", "can_delete_messages", "can_manage_video_chats", "can_restrict_members",
    "can_promote_members", "can_change_info", "can_invite_users", "can_post_stories",
    "can_edit_stories", "can_delete_stories", "can_pin_messages", "can_manage_topics",
)  # fmt: skip
RESTRICTED_RIGHTS = (
    "can_change_info", "can_invite_users", "can_pin_messages", "can_send_messages",
    "can_send_polls", "can_send_other_messages", "can_add_web_page_previews",
    "can_manage_topics", "can_send_audios", "can_send_documents", "can_send_photos",
    "can_send_videos", "can_send_video_notes", "can_send_voice_notes", "can_edit_tag",
    "can_react_to_messages",
)  # fmt: skip


@dataclass
class FakeUser:
    """A Telegram user (or the bot itself when ``is_bot``)."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_json(self) -> JSON:
        """The Bot API User object."""
        data: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


@dataclass
class FakeMember:
    """A user's membership in a chat."""

    user: FakeUser
    status: MemberStatus
    is_anonymous: bool = False
    custom_title: str | None = None
    rights: dict[str, bool] = field(default_factory=dict)

    def to_json(self) -> JSON:
        """The Bot API ChatMember object for this status."""
        data: JSON = {"status": self.status, "user": self.user.to_json()}
        if self.status == "creator":
            data["is_anonymous"] = self.is_anonymous
        elif self.status == "administrator":
            data |= {"can_be_edited": False, "is_anonymous": self.is_anonymous}
            data |= {right: self.rights.get(right, True) for right in ADMIN_RIGHTS}
        elif self.status == "restricted":
            data |= {"is_member": True, "until_date": 0}
            data |= {right: self.rights.get(right, False) for right in RESTRICTED_RIGHTS}
        elif self.status == "kicked":
            data["until_date"] = 0
        if self.custom_title and self.status in ("creator", "administrator"):
            data["custom_title"] = self.custom_title
        return data

    @property
    def is_admin(self) -> bool:
        """Creator or administrator."""
        return self.status in ("creator", "administrator")


@dataclass
class FakeTopic:
    """A forum topic; its thread id is the id of the service message that created it."""

    thread_id: int
    name: str
    created: JSON


@dataclass
class FakeChat:
    """A chat and everything the fake remembers about it."""

    id: int
    type: ChatType
    title: str | None = None
    username: str | None = None
    is_forum: bool = False
    private_user: FakeUser | None = None
    bot_status: MemberStatus = "member"
    blocked: bool = False
    started: bool = True
    members: dict[int, FakeMember] = field(default_factory=dict)
    topics: dict[int, FakeTopic] = field(default_factory=dict)
    messages: dict[int, JSON] = field(default_factory=dict)
    next_message_id: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def to_json(self) -> JSON:
        """The Bot API Chat object (as embedded in messages)."""
        data: JSON = {"id": self.id, "type": self.type}
        if self.private_user is not None:
            data |= {"first_name": self.private_user.first_name}
            if self.private_user.last_name:
                data["last_name"] = self.private_user.last_name
            if self.private_user.username:
                data["username"] = self.private_user.username
        else:
            data["title"] = self.title
            if self.username:
                data["username"] = self.username
        if self.is_forum:
            data["is_forum"] = True
        return data

    def full_info(self) -> JSON:
        """The Bot API ChatFullInfo object returned by getChat."""
        gifts = dict.fromkeys(
            ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription"), False
        )
        gifts["gifts_from_channels"] = False
        return self.to_json() | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    def new_message_id(self) -> int:
        """Allocate the next message id in this chat."""
        return next(self.next_message_id)


class World:
    """Registry of users and chats with builders; ids are allocated like Telegram's."""

    def __init__(self, bot: FakeUser) -> None:
        self.bot = bot
        self.users: dict[int, FakeUser] = {bot.id: bot}
        self.chats: dict[int, FakeChat] = {}
        self._user_ids = itertools.count(1_000_001)
        self._group_ids = itertools.count(4_000_001)
        self._super_ids = itertools.count(1_000_000_001)

    def add_user(
        self, first_name: str = "User", *, username: str | None = None, **extra: Any
    ) -> FakeUser:
        """Create a human user."""
        user = FakeUser(next(self._user_ids), first_name, username, **extra)
        self.users[user.id] = user
        return user

    def add_private_chat(
        self, user: FakeUser, *, started: bool = True, blocked: bool = False
    ) -> FakeChat:
        """The chat between ``user`` and the bot; ``started`` means the user pressed Start."""
        chat = FakeChat(user.id, "private", private_user=user, started=started, blocked=blocked)
        chat.members[user.id] = FakeMember(user, "member")
        self.chats[chat.id] = chat
        return chat

    def add_group(self, title: str = "Group", *, bot_status: MemberStatus = "member") -> FakeChat:
        """A basic group (negative id)."""
        return self._add(FakeChat(-next(self._group_ids), "group", title, bot_status=bot_status))

    def add_supergroup(
        self,
        title: str = "Supergroup",
        *,
        is_forum: bool = False,
        username: str | None = None,
        bot_status: MemberStatus = "member",
    ) -> FakeChat:
        """A supergroup (id -100...), optionally a forum with topics."""
        chat_id = -1_000_000_000_000 - next(self._super_ids)
        chat = FakeChat(chat_id, "supergroup", title, username, is_forum, bot_status=bot_status)
        return self._add(chat)

    def add_channel(
        self,
        title: str = "Channel",
        *,
        username: str | None = None,
        bot_status: MemberStatus = "administrator",
    ) -> FakeChat:
        """A channel; the bot must be an administrator to post."""
        chat_id = -1_000_000_000_000 - next(self._super_ids)
        return self._add(FakeChat(chat_id, "channel", title, username, bot_status=bot_status))

    def _add(self, chat: FakeChat) -> FakeChat:
        chat.members[self.bot.id] = FakeMember(self.bot, chat.bot_status)
        self.chats[chat.id] = chat
        return chat

    def add_topic(self, chat: FakeChat, name: str) -> int:
        """Create a forum topic and return its message_thread_id."""
        if not chat.is_forum:
            raise ValueError(f"chat {chat.id} is not a forum")
        thread_id = chat.new_message_id()
        created: JSON = {
            "message_id": thread_id,
            "date": int(time.time()),
            "chat": chat.to_json(),
            "message_thread_id": thread_id,
            "forum_topic_created": {"name": name, "icon_color": 7322096},
            "is_topic_message": True,
        }
        chat.messages[thread_id] = created
        chat.topics[thread_id] = FakeTopic(thread_id, name, created)
        return thread_id

    def set_member(
        self,
        chat: FakeChat,
        user: FakeUser,
        status: MemberStatus,
        *,
        is_anonymous: bool = False,
        custom_title: str | None = None,
        **rights: bool,
    ) -> FakeMember:
        """Set ``user``'s status in ``chat`` (use ``world.bot`` to change the bot's own)."""
        member = FakeMember(user, status, is_anonymous, custom_title, dict(rights))
        chat.members[user.id] = member
        if user.id == self.bot.id:
            chat.bot_status = status
        return member

    def member(self, chat: FakeChat, user_id: int) -> FakeMember | None:
        """The membership of ``user_id`` (status ``left`` for known users never seen)."""
        if user_id in chat.members:
            return chat.members[user_id]
        user = self.users.get(user_id)
        return FakeMember(user, "left") if user else None

    def find_chat(self, ref: int | str) -> FakeChat | None:
        """A chat by id or by ``@username``."""
        if isinstance(ref, str) and ref.startswith("@"):
            name = ref[1:].lower()
            return next(
                (c for c in self.chats.values() if (c.username or "").lower() == name), None
            )
        try:
            return self.chats.get(int(ref))
        except ValueError:
            return None
