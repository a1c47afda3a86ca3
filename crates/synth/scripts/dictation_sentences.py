#!/usr/bin/env python3
"""Fluent dictation-style sentences for the polisher's synthetic training pairs: what people
dictate into a desktop app (emails, messages, notes, lists, calendar requests, technical notes),
made from templates written for this project and slot values, seeded.

usage: dictation_sentences.py OUT.txt [--count 1500] [--seed 7]

Writes one text per line (some hold two sentences); the same arguments give the same file."""
import argparse
import pathlib
import random

SLOTS = {
    "name": ["Anna", "Marco", "Priya", "Tom", "Yusuf", "Helen", "Diego", "Mei", "Olga", "Sam", "Fatima", "Lukas", "Grace", "Kenji", "Rosa", "Ibrahim"],
    "team": ["design", "sales", "support", "platform", "finance", "marketing", "legal", "mobile"],
    "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "next week", "tomorrow", "the end of the month"],
    "time": ["9 am", "10:30", "noon", "2 pm", "3:15", "4 o'clock", "half past five"],
    "thing": ["the quarterly report", "the budget draft", "the slide deck", "the contract", "the release notes", "the invoice", "the onboarding guide", "the test plan", "the survey results", "the floor plan"],
    "product": ["the mobile app", "the billing service", "the dashboard", "the search page", "the sync client", "the API gateway", "the installer", "the data pipeline"],
    "issue": ["crashes on startup", "loses the settings", "times out after a minute", "shows the wrong totals", "uses too much memory", "fails to log in", "drops the last line"],
    "file": ["config.toml", "main.rs", "README.md", "budget.xlsx", "notes.txt", "schema.sql", "index.html"],
    "version": ["2.1", "3.0.4", "1.12", "version 5", "the beta", "the last release"],
    "number": ["2", "3", "5", "12", "20", "45", "150", "two", "three", "ten"],
    "money": ["$40", "$250", "$1,200", "15 dollars", "300 euros", "$9.99"],
    "place": ["the office", "the main conference room", "the cafe downstairs", "Berlin", "the Lisbon office", "the client's site", "room 4B"],
    "item": ["milk", "printer paper", "batteries", "coffee beans", "two chargers", "a new keyboard", "stamps", "dish soap"],
    "topic": ["the hiring plan", "the launch date", "the new pricing", "the office move", "the security review", "the holiday schedule"],
}

TEMPLATES = [
    "Hi {name}, thanks for sending {thing}, I will read it before {day}.",
    "Hi {name}, could we move our call to {day} at {time}?",
    "Dear {name}, please find attached {thing} for your review.",
    "Can you send me {thing} by {day}?",
    "Let's meet at {place} on {day} at {time}.",
    "Please book {place} for the {team} team on {day} from {time}.",
    "Remind me to call {name} {day} at {time}.",
    "Add {item} and {item} to the shopping list.",
    "Note to self: {product} {issue} when the network is slow.",
    "Bug report: {product} {issue} after the update to {version}.",
    "The fix for {product} is in {file}, and it ships with {version}.",
    "We need {number} more people on the {team} team before {day}.",
    "The total comes to {money}, which includes shipping.",
    "I paid {money} for the tickets, so you owe me half.",
    "Thanks {name}, that works for me. See you on {day}.",
    "Sorry for the late reply, I was out of the office until {day}.",
    "Could you review {file} and tell me if the change makes sense?",
    "Meeting notes: we agreed on {topic}, and {name} will follow up by {day}.",
    "Action items: {name} updates {thing}, {name} checks {product}, and I send the summary.",
    "First, open {file}. Second, change the port to {number}. Third, restart {product}.",
    "The {team} team wants to discuss {topic} on {day}.",
    "I think {topic} should wait until after {day}.",
    "Can we push the deadline for {thing} to {day}?",
    "Please forward this to {name} and copy the {team} team.",
    "My flight lands at {time} on {day}, so I will join the call late.",
    "Order {number} boxes of {item} for {place}.",
    "The invoice for {money} is due on {day}.",
    "{name} said that {product} {issue}, so we rolled back to {version}.",
    "Tell {name} that the meeting at {place} is moved to {time}.",
    "Quick update: {thing} is done, and {product} is back to normal.",
    "What time does the {team} review start on {day}?",
    "Do we still need {thing} for the meeting with {name}?",
    "Why does {product} {issue}?",
    "Is {place} free on {day} at {time}?",
    "Let me know if {day} at {time} works for you.",
    "We spent {money} on {item} last month.",
    "The new hire starts on {day}, and {name} will show them around {place}.",
    "Please rename {file} and commit it before {day}.",
    "Happy birthday {name}, I hope you have a wonderful day.",
    "I will be working from {place} on {day}.",
    "Schedule a call with {name} and {name} about {topic}.",
    "The report shows {number} open tickets for {product}.",
    "Can you pick up {item} on your way home?",
    "Our budget for {topic} is {money} per person.",
    "Draft a reply to {name} saying we accept the offer.",
    "The {team} meeting is cancelled this week. We will meet again on {day}.",
    "Please check whether {product} still {issue} with {version}.",
    "Write down that {name} prefers {day} for the workshop.",
    "Send the slides to {name} at least one day before the talk.",
    "I cannot make it on {day}, but {day} at {time} is fine.",
]


def fill(template, rng):
    out = template
    while "{" in out:
        start = out.index("{")
        end = out.index("}", start)
        out = out[:start] + rng.choice(SLOTS[out[start + 1:end]]) + out[end + 1:]
    return out[0].upper() + out[1:]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=pathlib.Path)
    ap.add_argument("--count", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    lines, seen = [], set()
    while len(lines) < args.count and len(seen) < args.count * 20:
        text = fill(rng.choice(TEMPLATES), rng)
        if rng.random() < 0.2:
            text += " " + fill(rng.choice(TEMPLATES), rng)
        if text not in seen:
            seen.add(text)
            lines.append(text)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text("".join(s + "\n" for s in lines), encoding="utf-8")
    tmp.replace(args.out)
    print(f"{len(lines)} dictation texts from {len(TEMPLATES)} templates (seed {args.seed}); wrote {args.out}")


if __name__ == "__main__":
    main()
