"""The labelled part of the evaluation set: planted messages, their near misses, and the queries.

A planted message is one fact someone will later look for. Each has near misses: messages in the
same chat that share its words but not its meaning ("Lisbon" in another sense, another offsite)
or its meaning but not its specifics (another hotel, another deadline), so neither the keyword nor
the semantic ranking finds the planted one for free. Queries paraphrase what is planted, the way
people remember it, in other words; a few are the rare name or number someone does remember, and
some carry the gateway's operators (``from:``, ``in:``, ``before:``, ``after:``).

Chats are keys of ``chats.CHATS``; dates are UTC (planted at midday, so no time zone moves a
message across a ``before:`` bound).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Planted:
    key: str
    chat: str  # a key of chats.CHATS
    sender: str
    date: str  # YYYY-MM-DD
    text: str
    near_misses: tuple[tuple[str, str], ...]  # (sender, text), placed in the same chat nearby


@dataclass(frozen=True)
class Query:
    text: str
    finds: tuple[str, ...]  # planted keys; any of them counts as found


P = Planted

PLANTED = [
    # --- the offsite (Telegram group, Slack) ----------------------------------------------------
    P(
        "offsite_agreed",
        "offsite",
        "Marta Silva",
        "2024-02-06",
        "Decision made: we're doing the offsite in Lisbon, 13 to 16 May. I'll send calendar "
        "invites tonight.",
        (
            (
                "Sam Reed",
                "Last year's offsite in Berlin was way too packed, let's keep the agenda "
                "light this time",
            ),
            ("Priya Nair", "My cousin lives in Lisbon, I can ask her for restaurant tips"),
            ("Jonas Weber", "Should we do a poll on the dates? Early May or late June?"),
        ),
    ),
    P(
        "hotel_booked",
        "offsite",
        "Jonas Weber",
        "2024-02-20",
        "Booked 9 rooms at the Memmo Alfama, breakfast included, free cancellation until 1 May",
        (
            ("Priya Nair", "Alfama is lovely but very hilly, bring proper shoes"),
            ("Sam Reed", "Does anyone know if the place has a gym?"),
            ("Marta Silva", "I booked the meeting room at the coworking for the Tuesday workshop"),
        ),
    ),
    P(
        "flights",
        "offsite",
        "Priya Nair",
        "2024-03-04",
        "Flights are sorted: TAP from Berlin lands at 10:40 on the 13th, the booking reference "
        "is in the shared doc",
        (
            ("Jonas Weber", "The airport train from Berlin Hauptbahnhof takes about 30 minutes"),
            ("Sam Reed", "Can we land before lunch? I don't want to lose the whole first day"),
        ),
    ),
    P(
        "diet",
        "offsite",
        "Sam Reed",
        "2024-03-12",
        "Heads up for the dinner booking: Omar and I don't eat meat, and Priya is allergic to "
        "peanuts",
        (
            ("Marta Silva", "Dinner on the first night is at Taberna da Rua das Flores, 8pm"),
            ("Jonas Weber", "I'm allergic to mornings, can we start the workshop at 10?"),
        ),
    ),
    P(
        "surf",
        "offsite",
        "Jonas Weber",
        "2024-04-02",
        "For the free Wednesday afternoon I found a surf school in Carcavelos that takes "
        "beginners, 35 euros each",
        (
            ("Priya Nair", "Wednesday afternoon is free, people can just explore the city"),
            ("Marta Silva", "The beach is 20 minutes by train but the water is freezing in May"),
        ),
    ),
    P(
        "omar_cancels",
        "offsite",
        "Jonas Weber",
        "2024-04-25",
        "Cancelled one of the rooms, Omar can't make it because of his sister's wedding",
        (
            ("Sam Reed", "Omar, are you bringing the projector or should I?"),
            ("Marta Silva", "Reminder that rooms can be cancelled for free until 1 May"),
        ),
    ),
    P(
        "budget_cap",
        "finance",
        "Marta Silva",
        "2024-02-08",
        "Finance signed off on the offsite: hard cap of €18,000 including travel",
        (
            ("Omar Haddad", "The marketing budget for Q2 is still not approved"),
            ("Sam Reed", "Travel expenses over 500 need a receipt and a manager's OK"),
        ),
    ),
    # --- finance (Slack) ------------------------------------------------------------------------
    P(
        "invoice_late",
        "finance",
        "Sam Reed",
        "2024-03-18",
        "The Kowalski invoice (#2231) is still unpaid, 45 days overdue now. Can someone chase "
        "their accounts team?",
        (
            ("Omar Haddad", "Sent invoice #2240 to Brightline today, payment terms 30 days"),
            ("Priya Nair", "Kowalski asked for a copy of the contract, I forwarded it"),
            ("Marta Silva", "Invoices paid this week: Brightline, Nordwind, Alto Studio"),
        ),
    ),
    P(
        "vat",
        "finance",
        "Omar Haddad",
        "2024-01-22",
        "Reminder: the quarterly VAT return has to be filed by 7 February or we pay a penalty",
        (
            ("Marta Silva", "The accountant wants the receipts for January by the end of the week"),
            ("Sam Reed", "Is the penalty for late expense reports still a thing?"),
        ),
    ),
    P(
        "card_expired",
        "finance",
        "Priya Nair",
        "2024-04-09",
        "Our AWS payment failed because the company credit card expired last month, I've put the "
        "new one in",
        (
            ("Omar Haddad", "AWS costs went up 12% this month, mostly storage"),
            ("Sam Reed", "Can I use the company card for the conference ticket?"),
        ),
    ),
    P(
        "payroll",
        "finance",
        "Marta Silva",
        "2024-05-27",
        "Payroll goes out on the 28th this month instead of the 30th because of the bank holiday",
        (
            ("Omar Haddad", "Bank holiday on Monday, the office is closed"),
            ("Priya Nair", "Where do I find my payslips from last year?"),
        ),
    ),
    # --- engineering (Slack) --------------------------------------------------------------------
    P(
        "db_upgrade",
        "engineering",
        "Sam Reed",
        "2024-02-13",
        "Postgres 16 upgrade is scheduled for Saturday 2am, expect about 20 minutes of downtime",
        (
            ("Jonas Weber", "Postgres connection pool is at 80% again during peak"),
            ("Omar Haddad", "Saturday I'm off, ping Priya if anything breaks"),
        ),
    ),
    P(
        "rollback",
        "engineering",
        "Jonas Weber",
        "2024-03-07",
        "Rolled back release 4.2: the checkout page threw 500s for users with saved cards",
        (
            ("Priya Nair", "Release 4.3 notes are up, please add your changes"),
            ("Omar Haddad", "Checkout conversion is up 3% since the new button"),
        ),
    ),
    P(
        "flaky_test",
        "engineering",
        "Omar Haddad",
        "2024-01-30",
        "Found it: test_invoice_dates only passed when the CI machine runs on UTC, a timezone bug",
        (
            ("Sam Reed", "CI is slow today, the runners are queued for 15 minutes"),
            ("Jonas Weber", "Added tests for the invoice export, coverage is at 81%"),
        ),
    ),
    P(
        "oncall_swap",
        "engineering",
        "Priya Nair",
        "2024-04-15",
        "I'll swap on-call with Jonas next week, he covers me during the Lisbon trip",
        (
            ("Jonas Weber", "On-call handbook is updated with the new escalation numbers"),
            ("Sam Reed", "Who's on call this weekend? The alerts channel is noisy"),
        ),
    ),
    P(
        "key_leak",
        "engineering",
        "Sam Reed",
        "2024-05-06",
        "Someone pushed a Stripe secret key to the public repo. I revoked it and rotated all keys, "
        "please never commit .env files",
        (
            ("Omar Haddad", "The public repo for the SDK has 40 new stars this week"),
            ("Priya Nair", "Rotated the staging database password, it's in the vault"),
        ),
    ),
    P(
        "redis_ttl",
        "engineering",
        "Jonas Weber",
        "2024-02-27",
        "Memory on the cache box keeps climbing because we forgot a TTL on the session keys in "
        "Redis",
        (
            ("Omar Haddad", "Redis upgrade to 7.2 is done, no issues so far"),
            ("Sam Reed", "The build box ran out of disk again, I cleaned the docker images"),
        ),
    ),
    P(
        "latency",
        "engineering",
        "Omar Haddad",
        "2024-06-03",
        "p99 on search went from 800ms to 120ms after adding the index on messages.sent_at",
        (
            ("Jonas Weber", "Search results look wrong for accented names, filed a bug"),
            ("Priya Nair", "The dashboard is slow to load in the mornings"),
        ),
    ),
    P(
        "standup_930",
        "engineering",
        "Marta Silva",
        "2024-01-15",
        "From Monday the stand-up moves to 9:30 so people in Lisbon can join",
        (("Sam Reed", "Can we keep the stand-up under 15 minutes please"),),
    ),
    P(
        "standup_10",
        "engineering",
        "Marta Silva",
        "2024-05-13",
        "Stand-up is moving again, to 10:00, starting after the offsite",
        (("Jonas Weber", "Skipping stand-up today, dentist"),),
    ),
    # --- general and random (Slack) -------------------------------------------------------------
    P(
        "office_move",
        "general",
        "Marta Silva",
        "2024-03-25",
        "We're moving to the new office on Rua Augusta on 2 April, bring your own boxes",
        (
            ("Omar Haddad", "The old office keys go back to the landlord on Friday"),
            ("Priya Nair", "New coffee machine in the kitchen, finally"),
        ),
    ),
    P(
        "guest_wifi",
        "general",
        "Omar Haddad",
        "2024-04-03",
        "The guest wifi password for the new place is on the whiteboard next to the kitchen",
        (
            ("Sam Reed", "Wifi is really slow on the second floor"),
            ("Jonas Weber", "Visitors need to sign in at reception from now on"),
        ),
    ),
    P(
        "security_course",
        "general",
        "Omar Haddad",
        "2024-02-19",
        "Everyone has to finish the phishing awareness course by the end of the month",
        (
            ("Priya Nair", "Got a weird email asking for my password, reported it"),
            ("Marta Silva", "The first aid course is on the 12th, sign up if you want"),
        ),
    ),
    P(
        "laptop",
        "general",
        "Priya Nair",
        "2024-03-19",
        "My laptop died, IT is sending a replacement, reach me on my phone until Wednesday",
        (
            ("Sam Reed", "My laptop battery lasts two hours now, is that normal?"),
            ("Jonas Weber", "IT says the new monitors arrive next week"),
        ),
    ),
    P(
        "churn",
        "general",
        "Sam Reed",
        "2024-05-29",
        "Lost the Nordwind account, they went with a cheaper competitor",
        (
            ("Marta Silva", "Signed a new account today: Alto Studio, 2 year contract"),
            ("Omar Haddad", "Nordwind paid their last invoice on time"),
        ),
    ),
    P(
        "birthday",
        "random",
        "Priya Nair",
        "2024-05-14",
        "Cake for Marta's birthday on Friday at 4, don't tell her!",
        (
            ("Sam Reed", "Happy birthday Jonas!! 🎉"),
            ("Omar Haddad", "There's leftover cake in the kitchen, help yourselves"),
        ),
    ),
    P(
        "parking",
        "random",
        "Sam Reed",
        "2024-04-22",
        "The garage under the building gives us 5 spots, first come first served, ask reception "
        "for a badge",
        (
            ("Priya Nair", "The bike racks outside are always full"),
            ("Jonas Weber", "Reception has a lost and found box, someone left a scarf"),
        ),
    ),
    # --- family (WhatsApp) ----------------------------------------------------------------------
    P(
        "grandma_hip",
        "family",
        "Mum",
        "2024-02-15",
        "Grandma's hip operation went well, she can go home on Thursday",
        (
            ("Dad", "Grandma says the hospital food is terrible 😂"),
            ("Ines", "Going home on Thursday after my exams, can someone pick me up?"),
        ),
    ),
    P(
        "passport",
        "family",
        "Dad",
        "2024-03-02",
        "Leo, your passport expires in June, renew it before the summer holiday",
        (
            ("Mum", "Has anyone seen the summer holiday photos from last year?"),
            ("Leo", "My ID card is in the drawer in the hall"),
        ),
    ),
    P(
        "dog_vet",
        "family",
        "Ines",
        "2024-01-18",
        "Took Bolo to the vet, it's just an ear infection, drops twice a day for a week",
        (
            ("Leo", "Bolo ate one of my socks again"),
            ("Mum", "The cat next door has a bad eye, poor thing"),
        ),
    ),
    P(
        "christmas",
        "family",
        "Mum",
        "2024-06-10",
        "This year Christmas is at our place, Aunt Rosa is bringing the bacalhau",
        (
            ("Dad", "Aunt Rosa called, she's coming for lunch on Sunday"),
            ("Ines", "Can we do Secret Santa this year?"),
        ),
    ),
    P(
        "router",
        "family",
        "Leo",
        "2024-04-20",
        "Reset the router at mum and dad's, the new password is on the sticker underneath",
        (
            ("Dad", "The TV keeps asking for a password again"),
            ("Leo", "Mum, the password for the Netflix account is the same as before"),
        ),
    ),
    P(
        "car_insurance",
        "family",
        "Dad",
        "2024-05-03",
        "Car insurance renewal went up to 640 a year, so I switched to another company",
        (
            ("Mum", "The car needs its inspection in September"),
            ("Leo", "My phone company put the price up again"),
        ),
    ),
    P(
        "custard_tip",
        "family",
        "Mum",
        "2024-04-07",
        "The secret in my pastéis de nata is a pinch of lemon zest in the custard",
        (
            ("Ines", "Bought pastéis de nata at the bakery, they weren't as good as yours"),
            ("Dad", "The lemon tree finally has lemons"),
        ),
    ),
    # --- flatmates (WhatsApp) -------------------------------------------------------------------
    P(
        "boiler",
        "flat",
        "Priya",
        "2024-01-10",
        "Plumber comes Tuesday between 8 and 12 to fix the boiler, someone needs to be home",
        (
            ("Tom", "Kitchen tap is dripping again"),
            ("Sam", "I'm home Tuesday morning anyway, working from here"),
        ),
    ),
    P(
        "rent_up",
        "flat",
        "Tom",
        "2024-03-28",
        "Landlord emailed: the rent goes up by 60 a month from July",
        (
            ("Sam", "Rent is due on Friday, don't forget"),
            ("Priya", "The landlord says the window repair is on him"),
        ),
    ),
    P(
        "cleaning_rota",
        "flat",
        "Sam",
        "2024-02-01",
        "New cleaning rota: bathroom Sam, kitchen Priya, hallway and bins Tom, we rotate every "
        "Monday",
        (
            ("Tom", "Who left the pans in the sink?"),
            ("Priya", "Kitchen is a mess after the party, I'll do it tomorrow"),
        ),
    ),
    P(
        "deposit",
        "flat",
        "Leo",
        "2024-06-12",
        "Got my deposit back, minus 150 for the scratched floor",
        (
            ("Tom", "Leo's room is free from July if anyone knows someone"),
            ("Priya", "The floor in the hallway is scratched too, was that the sofa?"),
        ),
    ),
    P(
        "parcel",
        "flat",
        "Tom",
        "2024-04-11",
        "Priya your parcel is with the neighbour at number 12",
        (
            ("Priya", "Waiting for a delivery today, can someone listen for the door?"),
            ("Sam", "The neighbours at number 14 are having a party again"),
        ),
    ),
    P(
        "train_strike",
        "flat",
        "Priya",
        "2024-05-22",
        "Train strike tomorrow so I'll work from home, can someone take the recycling out",
        (
            ("Tom", "The train was 20 minutes late again"),
            ("Sam", "Recycling goes out on Wednesday night"),
        ),
    ),
    P(
        "movie_night",
        "flat",
        "Tom",
        "2024-02-23",
        "Movie night Saturday: Dune Part Two at the Odeon, 8:15 showing, I booked 4 seats",
        (
            ("Sam", "Saturday I'm at my parents', have fun"),
            ("Priya", "Has anyone seen the remote? I want to watch something"),
        ),
    ),
    # --- the tabletop guild (Discord) -----------------------------------------------------------
    P(
        "campaign_day",
        "guild",
        "Kim",
        "2024-02-10",
        "Starting next month the campaign moves to Thursdays at 7pm, Tuesdays don't work for Alex "
        "anymore",
        (
            ("Alex", "Tuesday's session was amazing, that dragon fight!"),
            ("Jo", "Next month I'm away for a week, I'll miss one session"),
        ),
    ),
    P(
        "lost_dice",
        "guild",
        "Alex",
        "2024-03-03",
        "Did anyone pick up my blue metal dice set after Thursday's game?",
        (
            ("Kim", "New dice arrived, green glitter ones 🎲"),
            ("Jo", "Found a pencil case under the table after the game"),
        ),
    ),
    P(
        "house_rule",
        "guild",
        "Jo",
        "2024-01-25",
        "House rule from now on: critical hits roll the damage dice twice, no max damage",
        (
            ("Kim", "Reminder: house is open from 6:30, bring snacks"),
            ("Alex", "That critical fail on the stealth roll was hilarious"),
        ),
    ),
    P(
        "convention",
        "guild",
        "Kim",
        "2024-05-20",
        "Tickets for Spiel in Essen go on sale on 1 June, who wants to share a room?",
        (
            ("Ravi", "The local board game café is doing a tournament next month"),
            ("Alex", "Can someone share the room code for the online game?"),
        ),
    ),
    P(
        "boost_lost",
        "guild",
        "Ravi",
        "2024-06-08",
        "We lost our level 2 boost, so the custom emojis over 50 are gone",
        (
            ("Jo", "Can we add a custom emoji of Kim's cat?"),
            ("Kim", "Level 5 for everyone after tonight's session"),
        ),
    ),
    P(
        "nozzle",
        "printing",
        "Ravi",
        "2024-03-15",
        "The stringing was a worn 0.4 nozzle, swapped it and the prints come out clean now",
        (
            ("Jo", "Ordered a 0.6 nozzle for faster draft prints"),
            ("Alex", "My prints keep warping at the corners"),
        ),
    ),
    P(
        "petg_temps",
        "printing",
        "Jo",
        "2024-04-05",
        "For PETG I run the bed at 80 and the hotend at 240, the first layer sticks every time",
        (
            ("Ravi", "PETG is stronger than PLA but it strings like crazy"),
            ("Kim", "The printer room gets cold in the evening, is that a problem?"),
        ),
    ),
    # --- a second round, so each half of the queries has enough to tell settings apart -------
    P(
        "airport_minibus",
        "offsite",
        "Marta Silva",
        "2024-05-02",
        "I've booked a minibus from the airport to the hotel on the 13th, the driver will hold a "
        "sign with our company name",
        (
            ("Jonas Weber", "The metro from the airport is quick if you only have hand luggage"),
            ("Omar Haddad", "Which terminal does the Berlin flight use?"),
        ),
    ),
    P(
        "photographer",
        "offsite",
        "Priya Nair",
        "2024-04-18",
        "My friend Rita is a photographer in Lisbon, she can do team portraits on Thursday for 300",
        (
            ("Sam Reed", "I'll bring my camera, the light there is amazing"),
            ("Marta Silva", "Can we put the team portraits on the website afterwards?"),
        ),
    ),
    P(
        "new_accountants",
        "finance",
        "Omar Haddad",
        "2024-03-05",
        "We're switching accounting firms: Baker & Lowe take over from April",
        (
            ("Priya Nair", "The accountant is on holiday until the 20th"),
            ("Sam Reed", "April is when the new pricing takes over, right?"),
        ),
    ),
    P(
        "grant",
        "finance",
        "Marta Silva",
        "2024-06-14",
        "The innovation grant came through: 40k, paid in two instalments",
        (
            ("Omar Haddad", "Applied for the export subsidy, we'll hear back in autumn"),
            ("Priya Nair", "The second instalment of the office deposit is due"),
        ),
    ),
    P(
        "cert_expired",
        "engineering",
        "Priya Nair",
        "2024-03-22",
        "The certificate on api.acme.io expired at midnight, that's why the mobile app couldn't "
        "log in",
        (
            ("Jonas Weber", "Mobile app release 2.8 is in review with Apple"),
            ("Omar Haddad", "Login page redesign is live on staging"),
        ),
    ),
    P(
        "new_engineer",
        "engineering",
        "Jonas Weber",
        "2024-04-29",
        "Lena starts on the platform team on Monday, she'll pair with Omar on the ingest pipeline "
        "first",
        (
            ("Sam Reed", "We're still hiring a frontend engineer, send referrals"),
            ("Omar Haddad", "The ingest pipeline is 30% faster with the new batching"),
        ),
    ),
    P(
        "spot_savings",
        "engineering",
        "Sam Reed",
        "2024-06-18",
        "Moved the nightly reports to spot instances, that saves about 1,200 a month",
        (
            ("Priya Nair", "The nightly reports failed twice this week"),
            ("Jonas Weber", "Our AWS bill has a weird spike on the 3rd"),
        ),
    ),
    P(
        "extra_days_off",
        "general",
        "Marta Silva",
        "2024-01-08",
        "New policy: everyone gets 2 extra days off between Christmas and New Year",
        (
            ("Omar Haddad", "Please book your days off in the HR tool, not by email"),
            ("Priya Nair", "Happy New Year everyone! 🎆"),
        ),
    ),
    P(
        "hackathon",
        "general",
        "Jonas Weber",
        "2024-05-08",
        "Hackathon on 6 and 7 June, pitch your idea in the thread by Friday",
        (
            ("Sam Reed", "Ideas thread for the roadmap is open until Friday"),
            ("Marta Silva", "June is busy, two conferences and the board meeting"),
        ),
    ),
    P(
        "fox_keys",
        "random",
        "Omar Haddad",
        "2024-03-12",
        "Found a set of keys with a little red fox keyring in the meeting room",
        (
            ("Jonas Weber", "Does anyone have the key to the bike shed?"),
            ("Priya Nair", "Saw a fox in the car park this morning!"),
        ),
    ),
    P(
        "running_club",
        "random",
        "Sam Reed",
        "2024-04-26",
        "Running club on Tuesdays at 6:30 from the office, a 5k loop along the river",
        (
            ("Marta Silva", "The river walk is lovely at lunchtime"),
            ("Omar Haddad", "Signed up for the half marathon in October, send help"),
        ),
    ),
    P(
        "wedding",
        "family",
        "Dad",
        "2024-03-16",
        "Cousin Joana is getting married on 14 September in Porto, invitations coming soon",
        (
            ("Mum", "Joana sent photos from her trip to Porto"),
            ("Ines", "September is my first month at uni, I hope I can come to things"),
        ),
    ),
    P(
        "glasses",
        "family",
        "Mum",
        "2024-05-18",
        "Grandpa lost his glasses again, they were in the fridge",
        (
            ("Dad", "Grandpa needs a new prescription, I booked the optician"),
            ("Leo", "Who put the remote in the fridge? 😂"),
        ),
    ),
    P(
        "driving_test",
        "family",
        "Ines",
        "2024-06-04",
        "I passed my driving test!! First try 🚗",
        (
            ("Dad", "Ines, driving lesson on Saturday, I'll sit with you"),
            ("Leo", "Passed my exam, only one more to go"),
        ),
    ),
    P(
        "solar",
        "family",
        "Dad",
        "2024-01-27",
        "The solar panels are booked for installation on 20 February, the roofers come the day "
        "before",
        (
            ("Mum", "The roof gutter is leaking again"),
            ("Leo", "Electricity prices are going up again in February"),
        ),
    ),
    P(
        "fibre",
        "flat",
        "Sam",
        "2024-03-08",
        "Switched us to fibre, 500 Mbps for the same price, the engineer comes Thursday",
        (
            ("Tom", "Internet is down again, I'm on my phone's hotspot"),
            ("Priya", "Thursday the window people come, someone should be in"),
        ),
    ),
    P(
        "mouse",
        "flat",
        "Tom",
        "2024-01-20",
        "There's a mouse in the kitchen, I've put traps behind the fridge, don't leave food out",
        (
            ("Priya", "Food in the fridge without a name gets binned on Sunday"),
            ("Sam", "My computer mouse died, can I borrow yours?"),
        ),
    ),
    P(
        "new_flatmate",
        "flat",
        "Priya",
        "2024-06-20",
        "My friend Aisha wants Leo's room from July, she's a nurse and very tidy",
        (
            ("Tom", "We should repaint Leo's room before July"),
            ("Sam", "My cousin is a nurse too, night shifts are brutal"),
        ),
    ),
    P(
        "new_player",
        "guild",
        "Kim",
        "2024-04-12",
        "Ravi's sister Mei joins the campaign next week as a halfling bard",
        (
            ("Jo", "The bard's song saved the whole party last night"),
            ("Alex", "My sister wants to try the game sometime"),
        ),
    ),
    P(
        "dm_break",
        "guild",
        "Jo",
        "2024-05-28",
        "I need a break from running the game in July, can someone DM a short adventure?",
        (
            ("Kim", "Short adventure idea: a heist in the wizard's tower"),
            ("Ravi", "July I'm on holiday for two weeks anyway"),
        ),
    ),
    P(
        "pizza_money",
        "guild",
        "Alex",
        "2024-02-24",
        "Everyone owes me 6 for the pizza on Thursday, send it on the app",
        (
            ("Kim", "Pizza again on Thursday? I'm in"),
            ("Ravi", "The app says I'm missing 4 gold from the last loot split"),
        ),
    ),
    P(
        "resin_fumes",
        "printing",
        "Kim",
        "2024-05-10",
        "Moved the resin printer to the balcony, the fumes were giving me headaches",
        (
            ("Jo", "Resin minis look so much sharper than FDM ones"),
            ("Ravi", "My balcony is too cold for printing in winter"),
        ),
    ),
    P(
        "smoke_detector",
        "printing",
        "Ravi",
        "2024-06-15",
        "Installed a smoke detector above the printer after reading about that fire",
        (
            ("Alex", "My printer is running overnight, fingers crossed"),
            ("Jo", "Read an article about a printer fire, scary"),
        ),
    ),
    P(
        "pei_sheet",
        "printing",
        "Alex",
        "2024-01-29",
        "Got a PEI spring steel sheet, the prints pop right off when it cools down",
        (
            ("Jo", "Glue stick on the glass bed works for me"),
            ("Kim", "Prints keep breaking when I pull them off the supports"),
        ),
    ),
]

Q = Query

QUERIES = [
    Q("when did we agree on the dates for the Portugal team trip", ("offsite_agreed",)),
    Q("which hotel did Jonas reserve for everyone", ("hotel_booked",)),
    Q("what time does our plane arrive", ("flights",)),
    Q("dietary restrictions for the team dinner", ("diet",)),
    Q("was there a plan to go surfing during the trip", ("surf",)),
    Q('in:"Lisbon Offsite Crew" why is Omar not coming', ("omar_cancels",)),
    Q("how much money can we spend on the retreat", ("budget_cap",)),
    Q('from:"Sam Reed" the thing about the invoice that hasn\'t been paid', ("invoice_late",)),
    Q("tax filing deadline", ("vat",)),
    Q("why did the cloud bill bounce", ("card_expired",)),
    Q("when do we get our salaries this month", ("payroll",)),
    Q("in:engineering when is the database maintenance window", ("db_upgrade",)),
    Q("why was the last deploy reverted", ("rollback",)),
    Q("what caused the intermittent CI failures", ("flaky_test",)),
    Q("who takes over the pager while Priya is away", ("oncall_swap",)),
    Q("credentials accidentally published on GitHub", ("key_leak",)),
    Q("root cause of the memory leak on the caching server", ("redis_ttl",)),
    Q("how much faster did search get after the database fix", ("latency",)),
    Q("after:2024-01-01 before:2024-02-01 new time for the daily meeting", ("standup_930",)),
    Q("after:2024-05-01 when does the daily standup start now", ("standup_10",)),
    Q("when do we relocate to the new workplace", ("office_move",)),
    Q("where can visitors find the internet login", ("guest_wifi",)),
    Q("mandatory security training deadline", ("security_course",)),
    Q('from:"Priya Nair" broken computer', ("laptop",)),
    Q("which client did we lose to a rival", ("churn",)),
    Q("surprise celebration for Marta", ("birthday",)),
    Q("can I park my car at work", ("parking",)),
    Q("how did granny's surgery go", ("grandma_hip",)),
    Q("reminder to get a new travel document", ("passport",)),
    Q("what was wrong with the dog", ("dog_vet",)),
    Q("who is hosting the family for the holidays in December", ("christmas",)),
    Q("from:Leo internet fix at the parents' house", ("router",)),
    Q("did Dad change insurer", ("car_insurance",)),
    Q("mum's trick for custard tarts", ("custard_tip",)),
    Q("when is someone coming to repair the hot water", ("boiler",)),
    Q("is the rent going up", ("rent_up",)),
    Q("who has to clean the kitchen", ("cleaning_rota",)),
    Q("how much was taken off when Leo moved out", ("deposit",)),
    Q("which neighbour took Priya's package", ("parcel",)),
    Q("is there a rail walkout", ("train_strike",)),
    Q("which film are we seeing at the cinema", ("movie_night",)),
    Q("new weekday for our roleplaying sessions", ("campaign_day",)),
    Q("someone misplaced their dice", ("lost_dice",)),
    Q("what did we decide about crits", ("house_rule",)),
    Q("board game fair in Germany", ("convention",)),
    Q("why did the server emotes disappear", ("boost_lost",)),
    Q("how did Ravi fix the messy prints", ("nozzle",)),
    Q("what temperature settings work for PETG", ("petg_temps",)),
    Q("how do we get from the airport to where we're staying", ("airport_minibus",)),
    Q("who is taking the group pictures", ("photographer",)),
    Q("which firm does our bookkeeping from spring", ("new_accountants",)),
    Q("did we get the public funding", ("grant",)),
    Q("why couldn't people sign in on their phones", ("cert_expired",)),
    Q("who is the new engineer and who onboards her", ("new_engineer",)),
    Q("how did we reduce the cloud spend", ("spot_savings",)),
    Q("do we get more vacation at the end of the year", ("extra_days_off",)),
    Q("when is the two-day hacking event", ("hackathon",)),
    Q("anyone find a keychain with an animal on it", ("fox_keys",)),
    Q("is there a group that jogs after work", ("running_club",)),
    Q("when is the family wedding", ("wedding",)),
    Q("where did grandad's spectacles turn up", ("glasses",)),
    Q("did Ines get her licence", ("driving_test",)),
    Q("when is the renewable energy installation at home", ("solar",)),
    Q("did we change internet provider", ("fibre",)),
    Q("pest problem in the flat", ("mouse",)),
    Q("who might move into the free room", ("new_flatmate",)),
    Q("who is the new person in our game", ("new_player",)),
    Q("the game master wants time off", ("dm_break",)),
    Q("how much do I owe for food", ("pizza_money",)),
    Q("why did Kim relocate her machine", ("resin_fumes",)),
    Q("safety precaution for the 3d printer", ("smoke_detector",)),
    Q("how do you get prints off the bed easily", ("pei_sheet",)),
    # Second paraphrases, some with operators.
    Q("what did Sam say about the peanuts", ("diet",)),
    Q("in:finance the overdue payment from a customer", ("invoice_late",)),
    Q("before:2024-03-01 when was the database upgrade", ("db_upgrade",)),
    Q("from:Mum how is grandma doing", ("grandma_hip",)),
    Q("in:Family the puppy's medicine", ("dog_vet",)),
    Q("landlord raising what we pay", ("rent_up",)),
    Q("broken release because of saved cards", ("rollback",)),
    Q("from:Ravi stringing fix", ("nozzle",)),
    Q("who covers for Priya on call", ("oncall_swap",)),
    Q("after:2024-06-01 money from the government", ("grant",)),
    # The rare word or number someone does remember, alone or with a paraphrase around it.
    Q("when did we agree on the Lisbon offsite?", ("offsite_agreed",)),
    Q("what did the vet say about Bolo", ("dog_vet",)),
    Q("Aunt Rosa and the Christmas food", ("christmas",)),
    Q("Kowalski still owes us money", ("invoice_late",)),
    Q("Stripe key leaked", ("key_leak",)),
    Q("the Odeon booking", ("movie_night",)),
    Q("Spiel tickets", ("convention",)),
    Q("rooms in Alfama", ("hotel_booked",)),
    Q("postgres downtime", ("db_upgrade",)),
    Q("problem with the AWS card", ("card_expired",)),
    Q("moving date for Rua Augusta", ("office_move",)),
    Q("PETG bed temperature", ("petg_temps",)),
    Q("phishing course deadline", ("security_course",)),
    Q("plumber visit on Tuesday", ("boiler",)),
    Q("Nordwind", ("churn",)),
    Q("invoice 2231", ("invoice_late",)),
    Q("Memmo", ("hotel_booked",)),
    Q('"ear infection"', ("dog_vet",)),
    Q("Carcavelos surf", ("surf",)),
    Q("redis TTL", ("redis_ttl",)),
]
