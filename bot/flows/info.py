"""Fixed answers: help, privacy, and the polite replies to things the bot cannot act on."""

from __future__ import annotations

from bot.dialogue.messages import Reply
from bot.i18n import Translator

COMMANDS = (
    "start",
    "taken",
    "late",
    "symptom",
    "progress",
    "report",
    "export",
    "stock",
    "mood",
    "settings",
    "pause",
    "resume",
    "regimen",
    "visits",
    "helper",
    "privacy",
    "forget",
    "help",
    "cancel",
)


def command_descriptions(t: Translator) -> dict[str, str]:
    """One line per command, for /help and for the command menu Telegram shows."""
    return {
        "start": t._("Set up reminders for your treatment"),
        "taken": t._("I took my dose"),
        "late": t._("Record a dose from the last 3 days"),
        "symptom": t._("Report how your body feels"),
        "progress": t._("See how far you are"),
        "report": t._("A report to show a clinician"),
        "export": t._("Everything I hold about you, as files"),
        "stock": t._("Tablets bought and left"),
        "mood": t._("A short check on how you feel"),
        "settings": t._("Change times, language and more"),
        "pause": t._("Pause reminders"),
        "resume": t._("Start reminders again"),
        "regimen": t._("Record a change your clinician made to your treatment"),
        "visits": t._("Clinic visits and tests, with reminders"),
        "helper": t._("Choose who is told when you need a hand"),
        "privacy": t._("What I keep and who sees it"),
        "forget": t._("Erase everything about you"),
        "help": t._("What I can do"),
        "cancel": t._("Stop the current question"),
    }


def help_reply(t: Translator) -> Reply:
    lines = [t._("Here is what I can do:")]
    lines.extend(f"/{name} – {text}" for name, text in command_descriptions(t).items())
    return Reply("\n".join(lines))


def privacy_reply(t: Translator) -> Reply:
    return Reply(
        t._(
            "What I keep: a nickname, your language and time zone, your treatment plan, the "
            "doses you report, side effects, how you feel, and the visits and tests you note. "
            "I never ask for your real name, "
            "phone number, address or papers.\n\n"
            "How it is kept: encrypted at rest, with a key of your own; your account is found "
            "only through a scrambled code. Your key is itself locked by the server's key.\n\n"
            "Who could read it: whoever runs this server and holds its key could technically "
            "read what is stored. Nobody else can: not other users, and not someone who copies "
            "the database without the key. Such a copy shows when things happen (when your "
            "next doses are due, on which days you had doses or wrote to me) and whether you "
            "use Telegram or SMS or have a helper, but never what you took, said or reported, "
            "your plan, or who you are. A helper you choose sees only what you allow, and you "
            "can remove a helper at any time.\n\n"
            "What protects you: use a nickname, keep discreet mode on if others see your "
            "phone, and send /forget to erase everything for good: your key is destroyed, so "
            "what was stored about you can no longer be read."
        )
    )


def not_in_groups(t: Translator) -> Reply:
    """For a group chat, whose members all read it: one sentence that says nothing about what
    the bot is for, then the bot leaves."""
    return Reply(
        t._("Hello! I only work in one-to-one chats, so I am leaving this one."), leave=True
    )


def start_first(t: Translator) -> Reply:
    return Reply(t._("Hello! Send /start to set up your reminders."))


def unsupported(t: Translator) -> Reply:
    return Reply(
        t._("I can only read text messages and button presses. /help shows what I can do.")
    )


def unknown_command(t: Translator) -> Reply:
    return Reply(t._("I don't know that command. /help shows what I can do."))


def not_understood(t: Translator) -> Reply:
    return Reply(t._("I didn't understand that. /help shows what I can do."))


def expired_question(t: Translator) -> Reply:
    return Reply(t._("That question is no longer open. /help shows what I can do."))


def not_enrolled(t: Translator) -> Reply:
    return Reply(t._("You have no treatment plan yet. Send /start to set one up."))


def busy(t: Translator) -> Reply:
    return Reply(t._("One moment, I was still answering your last message. Please try again."))
