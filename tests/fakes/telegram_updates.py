"""What users do in the fake Telegram: write messages, send files, press buttons, post.

Messages are composed as Telegram delivers them (bot_command entities, anonymous admins
posting as the group, forum topics, privacy mode) and queued as updates for the bot.
:class:`UserActions` is mixed into :class:`tests.fakes.telegram_server.FakeTelegram`.
"""

from __future__ import annotations

import re
import time

from tests.fakes.telegram_files import document_json, store_file, with_caption
from tests.fakes.telegram_methods import issue_query
from tests.fakes.telegram_state import FakeState
from tests.fakes.telegram_webhook import deliver
from tests.fakes.telegram_world import JSON, FakeChat, FakeMember, World

ANONYMOUS_ADMIN: JSON = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
# The `from` of messages a user posts in a group as a channel (e.g. the group's linked one).
CHANNEL_BOT: JSON = {"id": 136817688, "is_bot": True, "first_name": "Channel",
                     "username": "Channel_Bot"}
# A command as tdlib finds it: "/" + 1-64 word chars, optionally "@" + a 3-32 char bot name,
# not glued to a preceding word character and not followed by one.
COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w@/])")


def command_entities(text: str) -> list[JSON]:
    """bot_command entities for every command in ``text`` (UTF-16 offsets), like Telegram."""
    entities: list[JSON] = []
    for match in COMMAND_RE.finditer(text):
        offset = len(text[: match.start()].encode("utf-16-le")) // 2
        length = len(match.group().encode("utf-16-le")) // 2
        entities.append({"type": "bot_command", "offset": offset, "length": length})
    return entities


def user_message(
    world: World, chat: FakeChat, user_id: int, text: str, thread_id: int | None = None
) -> JSON:
    """The Message a user's ``text`` becomes (anonymous admins post as the group)."""
    member = _sender(world, chat, user_id)
    message: JSON = {"message_id": chat.new_message_id()}
    if member.is_anonymous and member.is_admin and chat.type != "private":
        message |= {"from": ANONYMOUS_ADMIN, "sender_chat": chat.to_json()}
    else:
        message["from"] = member.user.to_json()
    message |= {"chat": chat.to_json(), "date": int(time.time()), "text": text}
    if entities := command_entities(text):
        message["entities"] = entities
    if thread_id is not None:
        topic = chat.topics[thread_id]
        message |= {"message_thread_id": thread_id, "is_topic_message": True}
        message["reply_to_message"] = topic.created
    return message


def _sender(world: World, chat: FakeChat, user_id: int) -> FakeMember:
    """The sender's membership; unknown users join as members, left/kicked can't write."""
    if chat.type == "private":
        if chat.private_user is None or chat.private_user.id != user_id:
            raise ValueError(f"user {user_id} is not the user of private chat {chat.id}")
        chat.started = True
    member = world.member(chat, user_id)
    if member is None:
        raise LookupError(f"unknown user {user_id}")
    if member.status in ("left", "kicked"):
        if user_id in chat.members:
            raise ValueError(f"user {user_id} is {member.status} in chat {chat.id}")
        member = world.set_member(chat, member.user, "member")
    return member


def privacy_allows(world: World, chat: FakeChat, text: str) -> bool:
    """Privacy mode: a non-admin bot in a group only sees commands not meant for others."""
    if chat.type not in ("group", "supergroup") or chat.bot_status in (
        "creator",
        "administrator",
    ):
        return True
    if not text.startswith("/"):
        return False
    _, _, target = text.split()[0].partition("@")
    return not target or target.lower() == (world.bot.username or "").lower()


class UserActions:
    """Users acting in chats; each action queues the update Telegram would send the bot."""

    state: FakeState
    world: World
    privacy_mode: bool

    def inject(self, kind: str, payload: JSON) -> JSON:
        """Queue a raw update of ``kind`` (e.g. "my_chat_member"); returns the update."""
        update = self.state.updates.push(kind, payload)
        self.state.signal.fire()
        return update

    def send_text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        thread_id: int | None = None,
        reply_to: int | None = None,
    ) -> JSON:
        """A user writes ``text`` in a chat; bot_command entities are detected like Telegram."""
        chat = self.world.chats[chat_id]
        message = user_message(self.world, chat, user_id, text, thread_id)
        if reply_to is not None:
            message["reply_to_message"] = chat.messages[reply_to]
        chat.messages[message["message_id"]] = message
        if self.privacy_mode and not privacy_allows(self.world, chat, text):
            update: JSON = {"message": message}
            self.state.updates.dropped.append(update)
            return update
        return self.inject("message", message)

    def send_command(
        self, chat_id: int, user_id: int, command: str, thread_id: int | None = None
    ) -> JSON:
        """A user sends ``/cmd args`` (or ``/cmd@botname``); returns the update."""
        if not command.startswith("/"):
            raise ValueError(f"a command starts with '/': {command!r}")
        return self.send_text(chat_id, user_id, command, thread_id=thread_id)

    def send_as_chat(self, chat_id: int, sender_chat_id: int, text: str) -> JSON:
        """A message in a group posted as a chat: ``sender_chat`` set to that chat, ``from``
        the Channel_Bot placeholder; as the group itself (an anonymous admin) when the ids
        are equal, then ``from`` is GroupAnonymousBot. Returns the update."""
        chat, sender = self.world.chats[chat_id], self.world.chats[sender_chat_id]
        placeholder = ANONYMOUS_ADMIN if sender is chat else CHANNEL_BOT
        message: JSON = {"message_id": chat.new_message_id(), "from": placeholder,
                         "sender_chat": sender.to_json(), "chat": chat.to_json(),
                         "date": int(time.time()), "text": text}
        if entities := command_entities(text):
            message["entities"] = entities
        chat.messages[message["message_id"]] = message
        return self.inject("message", message)

    def send_document_message(
        self,
        chat_id: int,
        user_id: int,
        filename: str,
        data: bytes,
        caption: str = "",
        *,
        mime_type: str = "application/octet-stream",
        thread_id: int | None = None,
    ) -> JSON:
        """A user sends a file with a caption (e.g. ``/feed import``); returns the update."""
        chat = self.world.chats[chat_id]
        message = with_caption(user_message(self.world, chat, user_id, caption, thread_id))
        if not message["caption"]:
            del message["caption"]
        stored = store_file(self.state, filename, data)
        message["document"] = document_json(stored, filename, mime_type)
        chat.messages[message["message_id"]] = message
        return self.inject("message", message)

    def press_button(self, chat_id: int, user_id: int, message_id: int, data: str) -> JSON:
        """A user presses the inline button carrying ``data`` under a bot message."""
        chat = self.world.chats[chat_id]
        message = chat.messages.get(message_id)
        if message is None:
            raise LookupError(f"no message {message_id} in chat {chat_id}")
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        if not any(button.get("callback_data") == data for row in rows for button in row):
            raise LookupError(f"message {message_id} has no button with data {data!r}")
        query_id = str(4_000_000_000_000 + len(self.state.queries))
        issue_query(self.state, query_id, user_id)
        query: JSON = {
            "id": query_id,
            "from": self.world.users[user_id].to_json(),
            "message": message,
            "chat_instance": str(abs(chat_id) * 7919 % 10**12),
            "data": data,
        }
        return self.inject("callback_query", query)

    async def deliver_webhook(self, update: JSON, *, secret_token: str | None = None) -> int:
        """POST ``update`` to the registered webhook with its secret header; the HTTP status.

        ``secret_token`` overrides the registered secret (to play an impostor).
        """
        hook = self.state.webhook
        if hook is None:
            raise LookupError("no webhook is set")
        return await deliver(self.state, update, secret_token or hook.secret_token)

    def post_in_channel(self, chat_id: int, text: str) -> JSON:
        """A post appears in a channel; admins bots receive it as ``channel_post``."""
        chat = self.world.chats[chat_id]
        message: JSON = {
            "message_id": chat.new_message_id(),
            "sender_chat": chat.to_json(),
            "chat": chat.to_json(),
            "date": int(time.time()),
            "text": text,
        }
        if entities := command_entities(text):
            message["entities"] = entities
        chat.messages[message["message_id"]] = message
        return self.inject("channel_post", message)
