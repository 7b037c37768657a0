"""Write a synthetic, deterministic WhatsApp export (Android, 24-hour clock) for benchmarks.

    python bench/gen_whatsapp.py N OUT.txt [--seed S] [--people K]

The same N and seed always give the same file. Messages are built from templates and word
lists so texts vary in wording and length like a real team chat (plans, invoices, ops, small
talk), with a few system lines, omitted media and multi-line messages. The file is written as
it is generated, so N can be in the millions without holding it in memory.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterator
from datetime import datetime, timedelta

PEOPLE = [
    "Marta Silva",
    "Jonas Berg",
    "Priya Nair",
    "Tom O'Neill",
    "Aiko Tanaka",
    "Lucas Moreau",
    "Sofia Rossi",
    "Ben Carter",
    "Inês Costa",
    "Omar Haddad",
    "Lena Vogel",
    "Diego Ramos",
]
PLACES = [
    "the office",
    "the warehouse",
    "the client site",
    "the co-working space",
    "home",
    "the train",
    "the airport",
    "the café downstairs",
    "the meeting room",
    "Berlin",
    "Porto",
    "the Amsterdam office",
    "the data centre",
]
THINGS = [
    "the invoice",
    "the contract",
    "the slide deck",
    "the release notes",
    "the budget",
    "the roadmap",
    "the onboarding doc",
    "the quarterly report",
    "the VPN config",
    "the staging server",
    "the on-call rota",
    "the supplier quote",
    "the expense sheet",
    "the design mockups",
    "the test results",
    "the backup job",
    "the customer survey",
]
PEOPLE_ROLES = [
    "the accountant",
    "legal",
    "the landlord",
    "the printer guy",
    "our designer",
    "the client",
    "the new intern",
    "finance",
    "IT support",
    "the caterer",
]
DAYS = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "tomorrow",
    "next week",
    "after lunch",
    "end of day",
    "first thing in the morning",
]
FEELINGS = [
    "great",
    "a bit tight",
    "fine",
    "not ideal",
    "perfect",
    "doable",
    "annoying",
    "surprisingly quick",
    "way over budget",
    "good enough for now",
]
REACTIONS = [
    "ok",
    "👍",
    "thanks!",
    "on it",
    "haha",
    "nice",
    "sounds good",
    "sure",
    "noted",
    "will do",
    "yes please",
    "no worries",
    "🙏",
    "ugh",
    "agreed",
]
TEMPLATES = [
    "Can someone send me {thing}? I need it before {day}",
    "I'll be at {place} until {hour}:{minute:02d} if anyone needs me",
    "Just talked to {role}, they said {thing} is {feeling}",
    "Reminder: {thing} is due {day}",
    "Who is picking up {thing} from {place}?",
    "Running {n} minutes late, traffic near {place} is {feeling}",
    "Uploaded {thing} to the shared drive, v{n}",
    "Did {role} ever reply about {thing}?",
    "{thing} looks {feeling} to me, but let's double check the numbers",
    "Invoice #{invoice} paid, {amount} EUR. Sending the receipt to {role}",
    "The {thing2} broke again, I restarted it at {hour}:{minute:02d}",
    "Lunch at {place} {day}? I'm buying this time",
    "Can we move the call to {hour}:{minute:02d}? Something came up at {place}",
    "Heads up: {role} wants {thing} changed before {day}",
    "I think we should split {thing} into {n} parts, it's getting too big",
    "Quick question about {thing}: do we bill hours or a fixed fee?",
    "Who's on call {day}? I swapped with {person} last time",
    "Booked a room at {place} for {day}, {n} people",
    "Merged the fix, {thing2} should be back to normal in {n} minutes",
    "Thanks {person}, {thing} was exactly what I needed",
    "Does anyone have the wifi password for {place}?",
    "Sorry, missed this. {feeling_cap}, let's go with your version",
    "Expense claim for the taxi to {place}: {amount} EUR",
    "Has anyone seen my charger? Probably left it at {place}",
    "New numbers are in: {thing} is {pct}% up on last month",
    "Can you review {thing} {day}? No rush",
    "Please don't touch {thing2} until {role} confirms",
    "Coffee machine at {place} is fixed 🎉",
]
THINGS_2 = [
    "build server",
    "printer",
    "VPN",
    "shared calendar",
    "wiki",
    "badge reader",
    "staging database",
    "CI pipeline",
    "label printer",
    "projector",
]
SYSTEM_LINES = [
    "{person} added {other}",
    "{person} left",
    "{person} changed this group's icon",
    "{person} changed the group description",
]
MEDIA = "<Media omitted>"


def _line(rng: random.Random, people: list[str]) -> tuple[str, str | None]:
    """``(text, sender)``; sender None for a system line."""
    roll = rng.random()
    person = rng.choice(people)
    if roll < 0.01:
        return rng.choice(SYSTEM_LINES).format(person=person, other=rng.choice(PEOPLE)), None
    if roll < 0.04:
        return MEDIA, person
    if roll < 0.16:
        return rng.choice(REACTIONS), person
    template = rng.choice(TEMPLATES)
    text = template.format(
        thing=rng.choice(THINGS),
        thing2=rng.choice(THINGS_2),
        place=rng.choice(PLACES),
        role=rng.choice(PEOPLE_ROLES),
        day=rng.choice(DAYS),
        feeling=rng.choice(FEELINGS),
        feeling_cap=rng.choice(FEELINGS).capitalize(),
        person=rng.choice(people).split()[0],
        hour=rng.randint(8, 19),
        minute=rng.choice([0, 15, 30, 45, 10, 20, 40, 50]),
        n=rng.randint(2, 45),
        invoice=rng.randint(1000, 9999),
        amount=f"{rng.randint(12, 4800)}.{rng.randint(0, 99):02d}",
        pct=rng.randint(1, 40),
    )
    if rng.random() < 0.03:  # a multi-line message
        text += "\n" + rng.choice(TEMPLATES[:8]).format(
            thing=rng.choice(THINGS),
            place=rng.choice(PLACES),
            role=rng.choice(PEOPLE_ROLES),
            day=rng.choice(DAYS),
            feeling=rng.choice(FEELINGS),
            hour=rng.randint(8, 19),
            minute=0,
            n=rng.randint(2, 9),
        )
    return text, person


def messages(count: int, seed: int, people_count: int) -> Iterator[str]:
    """The export's lines, one message at a time."""
    rng = random.Random(seed)
    people = rng.sample(PEOPLE, k=min(people_count, len(PEOPLE)))
    moment = datetime(2024, 1, 8, 8, 30)
    for _ in range(count):
        # Mostly quick replies, sometimes a pause, now and then the next day.
        gap = rng.choice([0, 1, 1, 2, 3, 5, 8, 15, 40, 120, 900])
        moment += timedelta(minutes=gap)
        if moment.hour >= 21 or moment.hour < 8:  # nobody writes at night: next morning
            day = moment if moment.hour < 8 else moment + timedelta(days=1)
            moment = day.replace(hour=8, minute=rng.randint(0, 59))
        text, sender = _line(rng, people)
        stamp = f"{moment:%d/%m/%Y, %H:%M} - "
        yield stamp + (f"{sender}: {text}" if sender else text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of messages")
    parser.add_argument("out", help="file to write")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--people", type=int, default=5, help="members of the chat")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("count must be at least 1")
    with open(args.out, "w", encoding="utf-8", newline="\n") as out:
        out.write(
            "08/01/2024, 08:30 - Messages and calls are end-to-end encrypted. No one "
            "outside of this chat, not even WhatsApp, can read or listen to them. Tap to "
            "learn more.\n"
        )
        for line in messages(args.count - 1, args.seed, args.people):
            out.write(line + "\n")


if __name__ == "__main__":
    main()
