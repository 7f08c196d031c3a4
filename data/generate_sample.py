"""Generate the project's synthetic customer-support intent dataset under data/raw/.

Every message is composed from templates written for this project: a problem clause and an
ask for the intent, optional opener/context/detail/closer sentences in one of three tones, slot
fillers (products, order numbers, dates, amounts, devices, error codes), then surface noise
(paraphrased cue words, typos, casing, emoji). Vocabulary overlaps between classes on purpose:
about a third of messages are contrasts that name two intents and dismiss one of them ("I don't
need a refund, I need the parcel delivered"), so that negation and word order, not the words
present, decide the label; about 7% mention two intents and say which is the main one; about 4%
are underspecified ("problem with my order") with wording shared by several intents.

Deterministic: the same seed always writes byte-identical files.

    python data/generate_sample.py            # writes data/raw/
    python data/generate_sample.py --out DIR  # writes somewhere else
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

SEED = 20260131
LABELS = ["billing", "shipping", "technical_issue", "account_access", "refund_request"]
LABEL_WEIGHTS = [0.22, 0.21, 0.20, 0.19, 0.18]
# Clean rows per batch (before the deliberate bad rows are added to the jsonl batch).
BATCHES: list[tuple[str, int]] = [
    ("support_2026_01.csv", 1050),
    ("support_2026_02.jsonl", 800),
    ("support_2026_03.tsv", 220),
]
MAX_CHARS = 600
AMBIGUOUS_RATE = 0.11
TYPO_RATE = 0.045  # per eligible word
EMOJI_RATE = 0.07
TERSE_SHARE = 0.12
VAGUE_SHARE = 0.04
# Contrasts: two intents' topics in one message, one of them dismissed. The same words appear under
# both labels, so a bag of words cannot tell them apart; the sentence structure can.
CONTRAST_SHARE = 0.36
GENERIC_ASK_SHARE = 0.45
PARAPHRASE_RATE = 0.5
NEIGHBOUR_DETAIL_RATE = 0.5
NEWLINE_RATE = 0.3  # share of sign-offs that put the name on its own line (csv/jsonl only)

# --------------------------------------------------------------------------------------------
# Slot fillers
# --------------------------------------------------------------------------------------------
PRODUCTS = [
    "wireless earbuds",
    "standing desk",
    "coffee grinder",
    "yoga mat",
    "smart thermostat",
    "running shoes",
    "phone case",
    "4K monitor",
    "blender",
    "backpack",
    "mechanical keyboard",
    "air fryer",
    "desk lamp",
    "winter jacket",
    "baby monitor",
    "robot vacuum",
    "e-reader",
    "fitness tracker",
    "webcam",
    "office chair",
    "water bottle",
    "bluetooth speaker",
    "hair dryer",
    "wifi router",
    "gaming mouse",
    "electric kettle",
    "smart doorbell",
    "noise cancelling headphones",
]
# Products that have firmware, wifi or bluetooth (for technical_issue templates).
GADGETS = [
    "wireless earbuds",
    "smart thermostat",
    "4K monitor",
    "mechanical keyboard",
    "baby monitor",
    "robot vacuum",
    "e-reader",
    "fitness tracker",
    "webcam",
    "bluetooth speaker",
    "wifi router",
    "gaming mouse",
    "smart doorbell",
    "noise cancelling headphones",
]
DEVICES = [
    "iPhone 13",
    "iPhone 15 Pro",
    "Pixel 8",
    "Galaxy S23",
    "Galaxy A54",
    "iPad Air",
    "MacBook Pro",
    "Windows 11 laptop",
    "Chromebook",
    "OnePlus 11",
    "Android tablet",
    "work PC",
    "Surface Pro",
    "iPhone SE",
    "Moto G",
    "old Dell laptop",
]
BROWSERS = ["Chrome", "Safari", "Firefox", "Edge", "Brave"]
PLANS = ["Premium", "Basic", "Pro", "Family", "Team", "Business", "Plus", "annual Pro", "Starter"]
PAYMENTS = [
    "my Visa ending in {d4}",
    "my Mastercard",
    "PayPal",
    "Apple Pay",
    "my debit card",
    "my Amex",
    "Google Pay",
    "my credit card",
    "the card ending {d4}",
]
CARRIERS = ["UPS", "FedEx", "DHL", "USPS", "Royal Mail", "the courier", "Canada Post", "DPD", "Evri"]
CITIES = [
    "Chicago",
    "Leeds",
    "Toronto",
    "Austin",
    "Manchester",
    "Denver",
    "Dublin",
    "Sydney",
    "Berlin",
    "Phoenix",
    "Lagos",
    "Mumbai",
    "Glasgow",
    "Calgary",
    "Lisbon",
]
COUNTRIES = [
    "Canada",
    "Ireland",
    "Australia",
    "Mexico",
    "Germany",
    "New Zealand",
    "Norway",
    "Brazil",
    "Japan",
    "South Africa",
    "Portugal",
]
FEATURES = ["Export", "Save", "Share", "Upload", "Add to cart", "Settings", "Sync", "Print", "Submit"]
NAMES = [
    "Sam",
    "Priya",
    "Jordan",
    "Luis",
    "Mei",
    "Tom",
    "Aisha",
    "Kevin",
    "Olga",
    "Daniel",
    "Fatima",
    "Chris",
    "Nina",
    "Raj",
    "Emma",
    "Marcus",
    "Yuki",
    "Grace",
    "Omar",
    "Beth",
]
MONTHS = ["January", "February"]
RELATIVE_DATES = [
    "yesterday",
    "last week",
    "two weeks ago",
    "last Tuesday",
    "on Monday",
    "last Friday",
    "at the start of the month",
    "a few days ago",
    "over the weekend",
]
PROMO_WORDS = ["WELCOME", "SAVE", "SPRING", "NEWYEAR", "VIP", "FRIEND", "FLASH"]


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def make_slots(rng: random.Random) -> dict[str, str]:
    """A fresh set of slot values for one message."""
    day = rng.randint(1, 28)
    month = rng.choice(MONTHS)
    date = rng.choice(
        [
            f"{month[:3]} {day}",
            f"{month} {_ordinal(day)}",
            f"{day:02d}/{MONTHS.index(month) + 1:02d}",
            f"on the {_ordinal(day)}",
            rng.choice(RELATIVE_DATES),
            rng.choice(RELATIVE_DATES),
        ]
    )

    def amount() -> str:
        value = rng.choice([rng.randint(5, 300) + rng.choice([0, 0.99, 0.49, 0.5]), rng.randint(5, 60)])
        currency = rng.choices(["$", "£", "€"], weights=[6, 2, 2])[0]
        if float(value).is_integer() and rng.random() < 0.5:
            return f"{currency}{int(value)}"
        return f"{currency}{value:.2f}"

    order = rng.choice(
        [
            f"#{rng.randint(100000, 999999)}",
            f"ORD-{rng.randint(10000, 99999)}",
            f"A{rng.randint(1000000, 9999999)}",
            f"#{rng.randint(10000, 99999)}-{rng.randint(10, 99)}",
        ]
    )
    error = rng.choice(
        [
            f"error ERR-{rng.randint(100, 999)}",
            f"error code 0x8007{rng.randint(0, 0xFFFF):04X}",
            f"error E{rng.randint(10, 99)}",
            f"a {rng.choice([500, 502, 503, 504, 404, 403])} error",
            f"error {rng.randint(1000, 9999)}",
            "a 'something went wrong' error",
            'a "network request failed" message',
        ]
    )
    n = rng.randint(3, 21)
    return {
        "product": rng.choice(PRODUCTS),
        "product2": rng.choice(PRODUCTS),
        "gadget": rng.choice(GADGETS),
        "device": rng.choice(DEVICES),
        "browser": rng.choice(BROWSERS),
        "plan": rng.choice(PLANS),
        "payment": rng.choice(PAYMENTS).format(d4=f"{rng.randint(0, 9999):04d}"),
        "carrier": rng.choice(CARRIERS),
        "city": rng.choice(CITIES),
        "country": rng.choice(COUNTRIES),
        "feature": rng.choice(FEATURES),
        "name": rng.choice(NAMES),
        "date": date,
        "amount": amount(),
        "amount2": amount(),
        "order": order,
        "error": error,
        "version": f"{rng.randint(2, 6)}.{rng.randint(0, 19)}.{rng.randint(0, 9)}",
        "promo": f"{rng.choice(PROMO_WORDS)}{rng.choice([10, 15, 20, 25, 30, 50])}",
        "n": str(n),
        "n2": str(max(1, n - rng.randint(1, 3))),
        "years": str(rng.randint(2, 9)),
        "nth": rng.choice(["second", "third", "fourth", "fifth"]),
    }


# --------------------------------------------------------------------------------------------
# Intent templates. Problems are clauses (no final punctuation); asks are whole sentences.
# --------------------------------------------------------------------------------------------
PROBLEMS: dict[str, list[str]] = {
    "billing": [
        "I was charged {amount} twice for my {plan} subscription this month",
        "my bill went up to {amount} and I didn't change anything",
        "there's a {amount} charge on {payment} from {date} that I don't recognise",
        "I need an invoice for the payment I made {date}",
        "the card on file expired and I need to put a new one in",
        "my payment keeps getting declined even though {payment} works everywhere else",
        "I want to switch from monthly to annual billing on the {plan} plan",
        "the promo code {promo} didn't apply at checkout so I paid full price",
        "I downgraded to Basic but I'm still being billed for {plan}",
        "my free trial ended and I got charged {amount} without any reminder",
        "the sales tax on my last invoice looks wrong, it's about {amount} higher than it should be",
        "I can't find my billing history anywhere in the account settings",
        "the invoice for order {order} has the wrong company name on it",
        "I was charged in euros instead of my local currency",
        "auto-renew charged {payment} {amount} for another year of {plan}",
        "I'd like to pay by bank transfer instead of {payment}",
        "the renewal notice says {amount} but the pricing page shows a lower price",
        "I see a pending authorization of {amount} for an order I never finished",
        "our team was billed for {n} seats but we only have {n2} users",
        "I need to update the billing address on the account",
        "the receipt email for my payment {date} never came through",
        "my payment for {plan} failed and now the account shows an overdue balance",
        "I got charged a late fee of {amount} even though I paid on time",
        "the charge on my statement is {amount} but my order total was {amount2}",
        "I was charged for the {plan} plan when I signed up for {plan} monthly",
        "I'd like to know why the price of {plan} changed without notice",
        "there are two charges from you on {date}, {amount} and {amount2}",
        "I need to add a VAT number to my invoices",
        "the subscription price went up after the discount period ended",
    ],
    "shipping": [
        "my order {order} still hasn't arrived and it's been {n} days",
        "the tracking for {order} hasn't updated since {date}",
        "the tracking says delivered but there's no package at my door",
        "{carrier} says my parcel is stuck at customs",
        "the tracking number you emailed doesn't work on the {carrier} site",
        'my order has been stuck on "processing" for over a week',
        "the courier left my {product} at the wrong address",
        "only part of my order showed up, the {product} is missing",
        "the delivery date keeps moving, first it was {date} and now it says next week",
        "I need to change the delivery address on order {order}",
        "I placed order {order} {date} and it hasn't shipped yet",
        "the {product} I ordered arrived with the box crushed",
        "I'm not going to be home on the delivery day",
        "the estimated delivery for my {product} says {n} weeks",
        "my package has been sitting at the {carrier} depot in {city} for days",
        "I was told it ships within 2 days but it's been {n}",
        "the shipping cost at checkout was {amount}, way more than the site said",
        "I got someone else's package instead of my order",
        "my parcel was returned to sender and I never asked for that",
        "I'm moving to {country} next month and want to keep ordering",
        "the {product} and the {product2} were supposed to ship together but only one came",
        "{carrier} tried to deliver {date} but nobody rang the bell",
        "my order confirmation says standard delivery but I paid for express",
        "the package for order {order} was left out in the rain",
        "my order {order} shows as shipped but {carrier} has no record of it",
        "I ordered the {product} {date} and still no shipping confirmation",
    ],
    "technical_issue": [
        "the app crashes every time I open it on my {device}",
        "I get {error} when I try to upload a file",
        "the website won't load properly in {browser}, it just spins",
        "sync between my {device} and my laptop stopped working after the last update",
        "push notifications stopped working on my {device}",
        "the {feature} button doesn't do anything when I tap it",
        "since updating to version {version} the app freezes on the loading screen",
        "my {gadget} won't connect to wifi, the light just keeps blinking",
        "the checkout page throws {error} when I try to pay",
        "videos stutter and then the app closes",
        "exporting to PDF gives me a blank file",
        "in dark mode the text is invisible on my {device}",
        "the dashboard just shows {error}",
        "the firmware update on my {gadget} failed halfway and now it won't turn on",
        "search returns nothing even for items I know exist",
        "the app is draining my battery on my {device}",
        "the app crashed while I was placing order {order}",
        "the site logs me out randomly every few minutes",
        "images won't load in the app, just grey boxes",
        "the companion app can't find my {gadget} over bluetooth",
        "the app gives {error} on startup on my {device}",
        "the site is super slow today and half the pages time out",
        "the app keeps crashing right after I log in",
        "the {feature} screen is blank on {browser}",
        "my {gadget} keeps disconnecting every few minutes",
        "the order history page shows {error}",
        "I can't attach photos, the upload bar gets stuck at 99%",
        "the app won't install on my {device}, it says incompatible",
    ],
    "account_access": [
        "I can't log in to my account, it keeps saying the password is incorrect",
        "I never got the password reset email",
        "my account got locked after too many attempts",
        "the two-factor code never arrives on my phone",
        "I got a new {device} and lost access to my authenticator app",
        "I got a login alert from {city} and it wasn't me",
        "I need to change the email address on my account",
        "I can't log in to the app on my {device}, it just sends me back to the login screen",
        "the verification link in the email says it has expired",
        "I want to delete my account and all my data",
        "I forgot my username",
        "my account was suspended and nobody told me why",
        "sign in with Google stopped working for me",
        "I need to add another user to our team account",
        "the password reset link takes me to a page with {error}",
        "I can't access my account since I changed my phone number",
        "someone changed my password and the recovery email",
        "the login page says my account doesn't exist but I've ordered from you before",
        "I'm stuck in a loop where it asks for the security code over and over",
        "I can't see my orders because I can't get into my account",
        "my old email address is closed so I can't receive the reset link",
        "it says my account is deactivated when I try to sign in",
        "I made two accounts by mistake and want to merge them",
        "the 'forgot password' button does nothing",
        "my login worked {date} but today it says invalid credentials",
        "I was locked out after the app made me set a new password",
    ],
    "refund_request": [
        "I returned order {order} {date} and still haven't seen my refund",
        "the {product} isn't what I needed",
        "the {product} looks nothing like the pictures",
        "I cancelled order {order} before it shipped",
        "the refund I got was only {amount} but I paid {amount2}",
        "I changed my mind about the {product}, it's still unopened",
        "the {plan} plan doesn't do what was advertised",
        "you sent me the wrong item",
        "the {gadget} stopped working after a week",
        "I bought the {product} twice by mistake",
        "my subscription renewed by accident",
        "I was told my refund was approved {date} but nothing has shown up on {payment}",
        "the {product} is missing parts",
        "I was promised a refund on the phone {date}",
        "I returned the {product} with {carrier} and it was signed for {date}",
    ],
}

# Problems refund_request borrows from other intents: the same situation, but the customer wants
# the money back. These always get a refund ask, which is what carries the label.
REFUND_BORROWED = [
    "I was charged {amount} after I cancelled",
    "I was double charged {amount} for the same order",
    "my package never arrived",
    "the {product} arrived broken",
    "the box arrived crushed and the {product} inside is damaged",
    "I was charged {amount} for shipping that was supposed to be free",
    "{carrier} lost my order {order}",
    "the app has been broken for weeks and I'm still paying for {plan}",
    "I can't even log in to the account I'm paying for",
    "auto-renew charged {payment} {amount} for {plan} and I don't use it anymore",
    "my free trial turned into a {amount} charge",
    "the order {order} came {n} days late and I don't need it anymore",
    "the {product} I ordered arrived with the box crushed",
    "I was charged {amount} twice for my {plan} subscription this month",
]

ASKS: dict[str, list[str]] = {
    "billing": [
        "Can you explain what this charge is for?",
        "Please send me a corrected invoice.",
        "How do I update my payment method?",
        "Can someone check my billing?",
        "Please fix the billing on my account.",
        "What am I actually paying for here?",
        "Could you send me a breakdown of the charges?",
        "Please make sure I'm billed the right amount going forward.",
        "When is my next billing date?",
        "Can you change my plan so I'm billed correctly?",
        "I just need the invoice for my expense report.",
        "Please correct it on the next bill.",
        "Can you apply the discount to my next payment?",
        "How do I change this?",
        "Can you look into it?",
        "Which card is actually on file?",
        "Why is the amount different?",
    ],
    "shipping": [
        "Where is it?",
        "Can you tell me when it will actually arrive?",
        "Can you contact {carrier} and find out what's going on?",
        "Please send it to the new address instead.",
        "Can you send a replacement out?",
        "Can I upgrade to express shipping?",
        "What do I need to do to get it delivered?",
        "Can you give me an updated tracking number?",
        "Can it be held at a pickup point?",
        "Please reship it.",
        "When will it ship?",
        "Can you look into it?",
        "Do you ship to {country}?",
        "Can you check where my order is?",
        "Can I pick it up from the depot instead?",
    ],
    "technical_issue": [
        "Is there a fix for this?",
        "How do I fix it?",
        "I've already reinstalled and restarted, nothing helps.",
        "Is this a known bug?",
        "Can your tech team look at it?",
        "Are your servers down?",
        "Is there a workaround?",
        "Any update on when this will be fixed?",
        "What should I try next?",
        "I cleared the cache and it still happens.",
        "Can you look into it?",
        "Is there an update coming?",
        "Please fix it.",
    ],
    "account_access": [
        "How do I get back in?",
        "Please unlock my account.",
        "Can you reset it for me?",
        "Can you verify me another way?",
        "Please secure my account.",
        "I need access today.",
        "What do I need to send to prove it's my account?",
        "Can you update it on your end?",
        "Please help me get into my account.",
        "Can you look into it?",
        "How do I change it?",
        "Can you send the code another way?",
    ],
    "refund_request": [
        "I want a refund.",
        "Please refund me.",
        "I'd like my money back.",
        "Can I get a full refund?",
        "Please refund the {amount} to {payment}.",
        "How do I return it for a refund?",
        "Please cancel it and give me my money back.",
        "I don't want a replacement, just refund it.",
        "How long does the refund take to hit my account?",
        "Can you process the return?",
        "Please send me a return label so I can get my money back.",
        "I expect the money back within the week.",
        "Reverse the charge please.",
        "Please issue a refund.",
        "Can you refund it to {payment}?",
        "I want it returned and refunded.",
    ],
}

# Asks any intent can end with: they carry no label signal, so the problem clause has to.
GENERIC_ASKS = [
    "Can you help?",
    "Please sort this out.",
    "What are my options?",
    "Can someone get back to me?",
    "Please look into this.",
    "What do I do now?",
    "Can you check on your end?",
    "I need this fixed.",
    "Please advise.",
    "Can someone call me about it?",
    "How do I sort this?",
    "Please help.",
]

# Underspecified messages: wording consistent with several intents. The label records what the
# ticket turned out to be about, so the text alone cannot always decide it (as in real queues).
B, S, T, A, R = LABELS
VAGUE: list[tuple[str, tuple[str, ...]]] = [
    ("I have a problem with my order {order}", (S, R, B)),
    ("question about my order", (S, R, B)),
    ("any news on my order {order}?", (S, R)),
    ("it's about order {order}, still nothing", (S, R)),
    ("I'm still waiting on the {product}", (S, R)),
    ("I'm not happy with my order {order}", (R, S)),
    ("problem with my order, I'd rather not keep it", (R, S)),
    ("this order was a mistake", (R, B)),
    ("there's something off with my last payment", (B, R)),
    ("I have a question about my subscription", (B, R, A)),
    ("something is wrong with my {plan} plan", (B, T, R)),
    ("my account shows a balance I don't understand", (B, A)),
    ("I have a question about what I'm paying each month", (B, R)),
    ("something's not working", (T, A)),
    ("it's not working again", (T, A)),
    ("the {gadget} is acting weird", (T, R)),
    ("I'm having issues with the app", (T, A)),
    ("the app isn't behaving since {date}", (T, A)),
    ("something's wrong with the website", (T, A, B)),
    ("problem with my account", (A, B, T)),
    ("I can't get into it", (A, T)),
    ("my account isn't working", (A, T)),
    ("something's wrong with my profile", (A, T)),
    ("the app won't accept my details", (A, T, B)),
    ("the {product} is not what I expected", (R, T)),
    ("I want to cancel", (R, B)),
    ("app not working", (T, A)),
    ("order issue", (S, R)),
    ("question about a charge", (B, R)),
    ("account problem", (A, B)),
    ("help with my order please", (S, R, B)),
    ("payment problem", (B, T)),
    ("cancel my order", (R, S)),
    ("the {gadget} I got", (R, S, T)),
]
VAGUE_BY_LABEL: dict[str, list[str]] = {
    label: [text for text, labels in VAGUE if label in labels] for label in LABELS
}

TERSE: dict[str, list[str]] = {
    "billing": [
        "wrong charge on my card",
        "need invoice for {date}",
        "why was I charged {amount}",
        "update payment method please",
        "billed twice this month",
        "how do I change plan",
        "promo code not applied",
        "charged twice?? explain",
        "card declined again",
        "where's my receipt",
        "invoice please",
        "next billing date?",
        "charge of {amount}??",
    ],
    "shipping": [
        "where is my package",
        "order {order} not arrived",
        "tracking not updating",
        "package says delivered, not here",
        "change delivery address please",
        "still waiting on my order",
        "when will it ship",
        "do you ship to {country}",
        "parcel stuck in customs",
        "where's my order??",
        "order {order} status?",
        "no tracking number yet",
    ],
    "technical_issue": [
        "app keeps crashing",
        "{error} on upload",
        "site won't load",
        "app crashed again",
        "sync broken after update",
        "notifications not working",
        "blank screen on {device}",
        "app frozen on startup",
        "{browser} page not loading",
        "app crashes on {device}",
        "the app is broken",
    ],
    "account_access": [
        "can't log in",
        "password reset not working",
        "account locked",
        "no 2fa code",
        "can't log in to the app",
        "forgot my username",
        "reset email never came",
        "locked out again",
        "can't sign in on {device}",
        "login not working",
        "verification code never arrives",
    ],
    "refund_request": [
        "refund please",
        "I want my money back",
        "refund for order {order}",
        "returning the {product}",
        "where is my refund",
        "money back please",
        "refund not received yet",
        "please refund my order",
        "refund the {amount} charge",
        "cancel and refund please",
        "need a refund",
    ],
}

DETAILS: dict[str, list[str]] = {
    "billing": [
        "I checked my bank statement and it's definitely there.",
        "My accountant needs this by the end of the month.",
        "I've been on the same plan for {years} years.",
        "The amount doesn't match what the pricing page says.",
        "I took a screenshot of the checkout page if you need it.",
        "Nothing changed on my side.",
        "The charge shows as pending on {payment}.",
        "We are a small business so every invoice matters.",
    ],
    "shipping": [
        "I've checked with my neighbours and the building office.",
        "The last scan says 'in transit' from {city}.",
        "I need it before {date} because it's a gift.",
        "I paid for express delivery.",
        'The tracking page just says "label created".',
        "{carrier} told me to contact you instead.",
        "I'm home most days so I don't understand how it was missed.",
        "The order confirmation email came through fine.",
    ],
    "technical_issue": [
        "I'm on {device} with the latest update.",
        "It happens in {browser} too.",
        "I already tried reinstalling twice.",
        "It was working fine until last week.",
        "I can send screenshots if that helps.",
        "My internet connection is fine, everything else works.",
        "I'm on version {version}.",
        "It happens on wifi and on mobile data.",
    ],
    "account_access": [
        "I've tried resetting three times now.",
        "I'm using the same email I signed up with.",
        "I checked the spam and junk folders.",
        "I have important files in that account.",
        "I have my order confirmation emails if that helps to verify me.",
        "I'm sure the password is right because it's saved in my password manager.",
        "I tried on {device} and in {browser}, same thing.",
        "My phone number on the account is an old one.",
    ],
    "refund_request": [
        "I have the receipt and the original packaging.",
        "It's well within the 30 day window.",
        "I already sent it back with {carrier}.",
        "The return was signed for {date}.",
        "I've been a loyal customer but this is disappointing.",
        "I paid with {payment}.",
        "I don't want store credit.",
        "The order total was {amount}.",
    ],
}

# Intents whose messages get confused with each other in real queues.
NEIGHBOURS: dict[str, list[str]] = {
    "billing": ["refund_request", "account_access"],
    "shipping": ["refund_request"],
    "technical_issue": ["account_access"],
    "account_access": ["technical_issue", "billing"],
    "refund_request": ["billing", "shipping"],
}

# Class-neutral sentences: they add length and shared vocabulary without carrying the intent.
CONTEXT = [
    "I've been a customer for {years} years.",
    "I already tried the live chat.",
    "This is my {nth} email about this.",
    "I ordered the {product} {date}.",
    "I'm writing from the email on my account.",
    "Not sure if this is the right place to ask.",
    "Quick question.",
    "I'm writing on behalf of my mum.",
    "I placed an order {date}.",
    "I use the app on my {device} mostly.",
    "My order number is {order}.",
    "I have the {plan} plan.",
    "I called yesterday but got cut off.",
    "Hope you can help.",
    "I paid with {payment}.",
    "I'm logged in right now.",
    "I updated the app {date}.",
    "My last order arrived fine.",
    "I got an email from you {date}.",
    "I'm on the {plan} plan and usually have no issues.",
]

OPENERS: dict[str, list[str]] = {
    "polite": [
        "Hi,",
        "Hello,",
        "Hi there,",
        "Good morning,",
        "Hello support team,",
        "Dear Sir or Madam,",
        "Hey,",
        "Hi team,",
        "Good afternoon,",
        "Hello, I hope you're well.",
    ],
    "angry": [
        "This is ridiculous.",
        "I'm really fed up.",
        "Seriously?!",
        "Unacceptable.",
        "Third time writing!!",
        "I am extremely frustrated.",
        "What is going on with your company?",
        "Honestly this is a joke.",
    ],
    "terse": ["", "", "", "Hi.", "Support:"],
}
CLOSERS: dict[str, list[str]] = {
    "polite": [
        "Thanks!",
        "Thank you in advance.",
        "Many thanks, {name}",
        "Appreciate the help.",
        "Kind regards, {name}",
        "Cheers",
        "Thanks so much.",
        "Best, {name}",
        "Thank you!",
    ],
    "angry": [
        "Fix this now.",
        "I expect an answer today.",
        "Otherwise I'm leaving a bad review.",
        "Worst service ever.",
        "Sort it out.",
        "Don't send me another canned reply.",
        "I want this resolved immediately.",
    ],
    "terse": ["", "", "", "thx", "Thanks."],
}
EMOJI: dict[str, list[str]] = {
    "polite": ["🙂", "🙏", "😊", "👍"],
    "angry": ["😡", "🤬", "😤", "👎", "😠"],
    "terse": ["🤔", "😕", "❓", "🙃"],
}
# What the customer needs (the label) and what a dismissed decoy is about, per intent. Each is a
# noun phrase that fits every CONTRAST_TEMPLATES slot.
TOPICS: dict[str, list[str]] = {
    "billing": [
        "the charge on my card",
        "my invoice",
        "the amount on my bill",
        "the payment I made",
        "the price I was billed",
        "the renewal fee",
    ],
    "shipping": [
        "my parcel",
        "the delivery",
        "the tracking of my order",
        "the courier",
        "the shipping address",
        "when my order will arrive",
    ],
    "technical_issue": [
        "the app crashing",
        "the error message",
        "the bug in the app",
        "the {gadget} not connecting",
        "the website freezing",
        "the update that broke the app",
    ],
    "account_access": [
        "my password",
        "the login",
        "access to my account",
        "the locked account",
        "the verification code",
        "signing in",
    ],
    "refund_request": [
        "a refund",
        "my money back",
        "the refund",
        "a reimbursement",
        "getting paid back",
        "a credit back to my card",
    ],
}
# {want}: the labelled intent's topic; {decoy}: another intent's, dismissed. Both orders occur, so
# neither position decides the label either.
CONTRAST_TEMPLATES = [
    "I don't need help with {decoy}, I need help with {want}",
    "this isn't about {decoy}, it's about {want}",
    "not asking about {decoy}; I'm asking about {want}",
    "forget {decoy}, {want} is what I need sorted",
    "{want} is what I need sorted, not {decoy}",
    "{decoy} is fine now. The problem is {want}",
    "the problem is {want}. {decoy} is fine now",
    "I already dealt with {decoy} myself, so now it's only {want}",
    "my question is about {want}, not about {decoy}",
    "nothing wrong with {decoy}, but {want} is a mess",
    "{decoy} was never the issue. {want} is",
    "please ignore my last message about {decoy}, I meant {want}",
]

AMBIGUOUS_JOINERS = [
    # A second intent is mentioned alongside the labelled one ({pri}), before or after it.
    "{sec}, but more importantly {pri}.",
    "{sec}. That's annoying, but the real problem is that {pri}.",
    "{pri}. Also {sec}.",
    "{pri}. On top of that, {sec}.",
    "{pri}, and {sec} too.",
]


# Paraphrases for cue phrases, applied per message: people rarely use the canonical word, and the
# long tail of wordings is what a pretrained encoder handles better than a bag of n-grams.
PARAPHRASES: list[tuple[str, list[str]]] = [
    ("Please refund me.", ["Please reimburse me.", "Please pay me back.", "I'd like to be reimbursed."]),
    ("I want a refund.", ["I want my cash back.", "I'd like to be reimbursed.", "Give me the money back."]),
    ("my money back", ["my cash back", "a reimbursement", "the money returned"]),
    ("refund", ["reimbursement", "refund", "refund"]),
    ("package", ["parcel", "delivery", "shipment", "box"]),
    ("arrived", ["turned up", "shown up", "come"]),
    ("crashes", ["closes by itself", "quits", "shuts down", "dies"]),
    ("crashing", ["closing by itself", "quitting", "shutting down", "dying on me"]),
    ("log in", ["sign in", "login", "get logged in"]),
    ("charged", ["billed", "debited", "charged"]),
    ("invoice", ["bill", "statement", "invoice"]),
    ("password", ["passcode", "pw", "password"]),
    ("locked", ["blocked", "frozen", "locked"]),
    ("order", ["purchase", "order", "order"]),
    ("the app", ["your app", "the application", "the mobile app"]),
    ("subscription", ["membership", "plan", "subscription"]),
    ("courier", ["delivery driver", "driver", "courier"]),
    ("error", ["error message", "error", "fault"]),
]


def paraphrase(text: str, rng: random.Random, rate: float) -> str:
    for phrase, alternatives in PARAPHRASES:
        pattern = rf"(?<!\w){re.escape(phrase)}(?!\w)"  # whole words only: "order" but not "ordered"
        if re.search(pattern, text) and rng.random() < rate:
            replacement = rng.choice(alternatives)
            text = re.sub(pattern, lambda _m, r=replacement: r, text, count=1)
    return text


# --------------------------------------------------------------------------------------------
# Noise
# --------------------------------------------------------------------------------------------
def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def _typo(word: str, rng: random.Random) -> str:
    core = word.rstrip(".,!?'\"")
    tail = word[len(core) :]
    if len(core) < 4 or not core.isalpha():
        return word
    i = rng.randint(1, len(core) - 2)
    kind = rng.random()
    if kind < 0.45:  # swap two neighbouring letters
        core = core[:i] + core[i + 1] + core[i] + core[i + 2 :]
    elif kind < 0.8:  # drop a letter
        core = core[:i] + core[i + 1 :]
    else:  # double a letter
        core = core[:i] + core[i] + core[i:]
    return core + tail


def add_typos(text: str, rng: random.Random, rate: float) -> str:
    words = text.split(" ")
    return " ".join(_typo(w, rng) if rng.random() < rate else w for w in words)


def casing_noise(text: str, tone: str, rng: random.Random) -> str:
    r = rng.random()
    if tone == "angry" and r < 0.12 and len(text) < 220:
        return text.upper()
    if r < (0.22 if tone == "terse" else 0.07):
        return text.lower()
    if r < 0.3 and text[:1].isupper():
        return text[:1].lower() + text[1:]
    return text


# --------------------------------------------------------------------------------------------
# Composition
# --------------------------------------------------------------------------------------------
def _problem(label: str, rng: random.Random) -> tuple[str, bool]:
    """A problem clause for the label and whether it came from another intent's vocabulary."""
    if label == "refund_request" and rng.random() < 0.45:
        return rng.choice(REFUND_BORROWED), True
    return rng.choice(PROBLEMS[label]), False


def _sentence(clause: str) -> str:
    clause = clause.strip()
    return _cap(clause) + ("" if clause[-1:] in ".?!" else ".")


def _article(text: str) -> str:
    """'a e-reader' -> 'an e-reader' after slots are filled."""
    return re.sub(r"\b([Aa]) (?=[aeioAEIO])", r"\1n ", text)


def compose(label: str, rng: random.Random, allow_newlines: bool) -> tuple[str, str]:
    """One message for the label; returns (text, kind): terse/vague/contrast/ambiguous/medium/long."""
    tone = rng.choices(["polite", "angry", "terse"], weights=[5, 2, 3])[0]
    slots = make_slots(rng)

    def render(template: str) -> str:
        return paraphrase(_article(template.format(**slots)), rng, PARAPHRASE_RATE)

    shape = rng.random()
    head: list[str] = []  # opener
    context: list[str] = []  # droppable, before the core
    details: list[str] = []  # droppable, after the core
    tail: list[str] = []  # ask, closer
    if shape < TERSE_SHARE:  # 3-6 words
        kind = "terse"
        core = rng.choice(TERSE[label])
        if rng.random() < 0.25:
            core += rng.choice(["?", "!", "!!", "...", " asap"] + ([] if "please" in core else [" pls"]))
    elif shape < TERSE_SHARE + VAGUE_SHARE:  # underspecified, short
        kind = "vague"
        head = [o for o in [rng.choice(OPENERS[tone])] if o]
        core = _sentence(rng.choice(VAGUE_BY_LABEL[label]))
        if rng.random() < 0.5:
            tail.append(rng.choice(GENERIC_ASKS))
    elif shape < TERSE_SHARE + VAGUE_SHARE + CONTRAST_SHARE:  # two topics, one dismissed
        kind = "contrast"
        decoy = rng.choice([lab for lab in LABELS if lab != label])
        core = _sentence(
            rng.choice(CONTRAST_TEMPLATES).format(
                want=rng.choice(TOPICS[label]), decoy=rng.choice(TOPICS[decoy])
            )
        )
        core = ". ".join(_cap(part) for part in core.split(". "))
        opener = rng.choice(OPENERS[tone])
        if opener and rng.random() < 0.6:
            head.append(opener)
        if rng.random() < 0.3:
            context = rng.sample(CONTEXT, k=1)
        # Only intent-neutral asks and closers: a class-specific one would hand the label to the words.
        if rng.random() < 0.5:
            tail.append(rng.choice(GENERIC_ASKS))
        closer = rng.choice(CLOSERS[tone])
        if closer and rng.random() < 0.5:
            tail.append(closer)
    else:
        problem, borrowed = _problem(label, rng)
        long_form = shape > 0.68
        very_long = shape > 0.92
        kind = "long" if long_form else "medium"
        if rng.random() < AMBIGUOUS_RATE:
            kind = "ambiguous"
            other = rng.choice([lab for lab in LABELS if lab != label])
            pattern = rng.choice(AMBIGUOUS_JOINERS)
            core = _cap(pattern.format(sec=rng.choice(PROBLEMS[other]), pri=problem))
        else:
            core = _sentence(problem)
        opener = rng.choice(OPENERS[tone])
        if opener and rng.random() < 0.75:
            head.append(opener)
        if long_form or rng.random() < 0.15:
            k = rng.randint(2, 3) if very_long else rng.randint(1, 2) if long_form else 1
            context = rng.sample(CONTEXT, k=k)
        # Supporting details mostly come from the intent, sometimes from a confusable neighbour.
        pool = list(DETAILS[label])
        if rng.random() < NEIGHBOUR_DETAIL_RATE:
            pool += rng.sample(DETAILS[rng.choice(NEIGHBOURS[label])], k=3)
        if long_form:
            details = rng.sample(pool, k=rng.randint(3, 4) if very_long else rng.randint(1, 3))
        elif rng.random() < 0.2:
            details = [rng.choice(pool)]
        if borrowed or (label == "refund_request" and rng.random() < 0.8):
            tail.append(rng.choice(ASKS[label]))
        elif rng.random() < 0.75:
            tail.append(rng.choice(GENERIC_ASKS if rng.random() < GENERIC_ASK_SHARE else ASKS[label]))
        closer = rng.choice(CLOSERS[tone])
        if closer and rng.random() < 0.6:
            tail.append(closer)

    head, context, details, tail = ([render(t) for t in group] for group in (head, context, details, tail))
    core = render(core)

    def joined() -> str:
        return " ".join([*head, *context, core, *details, *tail])

    # Keep the longest messages under the cap by dropping context/detail sentences, never the core.
    while len(joined()) > MAX_CHARS - 10 and (context or details):
        (details if len(details) >= len(context) else context).pop()
    text = joined()

    text = add_typos(text, rng, TYPO_RATE if tone != "angry" else TYPO_RATE * 1.5)
    text = casing_noise(text, tone, rng)
    if rng.random() < EMOJI_RATE:
        emoji = rng.choice(EMOJI[tone])
        text = f"{text} {emoji}" if rng.random() < 0.8 else f"{emoji} {text}"
    if allow_newlines and rng.random() < NEWLINE_RATE:
        for sep in (", " + slots["name"], " " + slots["name"]):
            if text.endswith(sep) and len(text) > len(sep) + 10:
                text = text[: -len(sep)] + ",\n" + slots["name"]
                break
    return text, kind


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def generate(rng: random.Random) -> tuple[dict[str, list[dict[str, str]]], Counter[str]]:
    """All batches as {file name: rows}, plus how many messages of each kind were kept.

    Texts are unique across every batch (compared case- and whitespace-insensitively).
    """
    seen: set[str] = set()
    kinds: Counter[str] = Counter()
    out: dict[str, list[dict[str, str]]] = {}
    for name, size in BATCHES:
        allow_newlines = not name.endswith(".tsv")
        rows: list[dict[str, str]] = []
        while len(rows) < size:
            label = rng.choices(LABELS, weights=LABEL_WEIGHTS)[0]
            text, kind = compose(label, rng, allow_newlines)
            key = _norm(text)
            if key in seen:
                continue  # dedupe: never repeat a text, whichever label it had
            seen.add(key)
            kinds[kind] += 1
            rows.append({"text": text, "label": label})
        out[name] = rows
    return out, kinds


def add_bad_rows(rows: list[dict[str, str]], rng: random.Random) -> list[dict[str, str]]:
    """The deliberate quarantine fodder: 3 blank texts and 2 out-of-set labels, at random positions."""
    bad = [
        {"text": "", "label": "shipping"},
        {"text": "   ", "label": "billing"},
        {"text": " \t ", "label": "technical_issue"},
        {"text": "Hi, I have a question about something else, who do I talk to?", "label": "unknown"},
        {"text": "hello?? anyone there", "label": "unknown"},
    ]
    result = list(rows)
    for row in bad:
        result.insert(rng.randint(1, len(result) - 1), row)
    return result


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------
def write_delimited(path: Path, rows: list[dict[str, str]], delimiter: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(
            fh,
            fieldnames=["text", "label"],
            delimiter=delimiter,
            quoting=csv.QUOTE_MINIMAL,
            lineterminator="\n",
        )
        writer.writeheader()
        writer.writerows(rows)


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps({"text": row["text"], "label": row["label"]}, ensure_ascii=False) + "\n")


WRITERS: dict[str, Callable[[Path, list[dict[str, str]]], None]] = {
    ".csv": lambda p, r: write_delimited(p, r, ","),
    ".tsv": lambda p, r: write_delimited(p, r, "\t"),
    ".jsonl": write_jsonl,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "raw")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)

    batches, kinds = generate(random.Random(args.seed))
    # Its own draw, so the bad rows' lines do not move when the message templates change.
    batches["support_2026_02.jsonl"] = add_bad_rows(
        batches["support_2026_02.jsonl"], random.Random(args.seed)
    )

    args.out.mkdir(parents=True, exist_ok=True)
    for name, rows in batches.items():
        path = args.out / name
        WRITERS[path.suffix](path, rows)
        counts = Counter(r["label"] for r in rows)
        summary = ", ".join(f"{lab}={counts[lab]}" for lab in [*LABELS, "unknown"] if counts[lab])
        print(f"{path}: {len(rows)} rows ({summary})")
    total = sum(kinds.values())
    print("clean rows by kind: " + ", ".join(f"{k}={v} ({v / total:.1%})" for k, v in sorted(kinds.items())))


if __name__ == "__main__":
    main()
