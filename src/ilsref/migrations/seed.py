"""Plausible seed data: one practice, three accounts, ~50 patients and ~100 orders.

Deterministic (fixed random seed) except the passwords, which are new for every `up`.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import psycopg

from ilsref.app.passwords import hash_password, random_password

FIRST_NAMES = ("Olivia", "Amelia", "Isla", "Ava", "Mia", "Ivy", "Lily", "Grace", "Noah", "Oliver",
               "George", "Arthur", "Leo", "Harry", "Oscar", "Theo", "Freddie", "Jack", "Aisha",
               "Priya", "Mohammed", "Yusuf", "Chloe", "Ruby")
LAST_NAMES = ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
              "Patel", "Robinson", "Wright", "Thompson", "Evans", "Walker", "White", "Roberts",
              "Green", "Hall", "Khan", "Clarke")
CITIES = (("Leeds", "LS1"), ("Manchester", "M1"), ("Bristol", "BS1"), ("York", "YO1"),
          ("Sheffield", "S1"), ("Nottingham", "NG1"))
LENS_TYPES = ("Single Vision", "Bifocal", "Progressive", "Reading")
LENS_MATERIALS = ("CR-39", "Polycarbonate", "Trivex", "High-Index 1.67", "High-Index 1.74")
COATINGS = ("None", "Anti-Reflective", "Scratch Resistant", "Blue Light Filter", "Photochromic",
            "Polarized")
FRAME_TYPES = ("Full Rim", "Semi-Rimless", "Rimless")
ORDER_STATUSES = ("pending", "pending", "in_production", "quality_check", "shipped", "completed",
                  "completed", "cancelled")


@dataclass(frozen=True)
class Account:
    key: str  # smoke | admin | lab: the name used in local.toml's [accounts]
    email: str
    password: str
    role: str


def seed(conn: psycopg.Connection, *, patients: int = 50, orders: int = 100) -> list[Account]:
    """Insert the seed rows in one transaction; returns the accounts with their clear passwords."""
    rnd = random.Random(20)
    accounts = [
        Account("smoke", "smoke@ils.local", random_password(), "ecp"),
        Account("admin", "admin@ils.local", random_password(), "admin"),
        Account("lab", "lab@ils.local", random_password(), "lab_tech"),
    ]
    today = dt.date.today()
    with conn.transaction():
        company_id = conn.execute(
            "INSERT INTO companies (name, type, email, phone) VALUES (%s, 'ecp', %s, %s) RETURNING id",
            ("Northfield Opticians", "practice@northfield.example", "0113 496 0000"),
        ).fetchone()[0]  # type: ignore[index]
        user_ids = {}
        for account, (first, last) in zip(accounts, (("Sam", "Smoke"), ("Ada", "Admin"),
                                                      ("Len", "Grinder")), strict=True):
            user_ids[account.key] = conn.execute(
                "INSERT INTO users (email, password_hash, first_name, last_name, role, company_id)"
                " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (account.email, hash_password(account.password), first, last, account.role,
                 company_id),
            ).fetchone()[0]  # type: ignore[index]

        patient_rows = []
        for i in range(1, patients + 1):
            first, last = rnd.choice(FIRST_NAMES), rnd.choice(LAST_NAMES)
            city, area = rnd.choice(CITIES)
            born = today - dt.timedelta(days=rnd.randint(18 * 365, 85 * 365))
            patient_rows.append((
                company_id, f"CUST-{i:06d}", f"{first} {last}", born,
                f"{first}.{last}{i}@example.com".lower(), f"07700 9{rnd.randint(0, 99999):05d}",
                f"{rnd.randint(1000000000, 9999999999)}", f"{rnd.randint(1, 200)} High Street",
                city, f"{area} {rnd.randint(1, 9)}{rnd.choice('ABDEFG')}{rnd.choice('HJLNPQ')}",
            ))
        patient_ids = [
            conn.execute(
                "INSERT INTO patients (company_id, customer_number, name, date_of_birth, email,"
                " phone, nhs_number, address, city, postcode)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id, name, date_of_birth",
                row,
            ).fetchone()
            for row in patient_rows
        ]

        # A database left one migration behind (fault migration_behind) still has the order's
        # copy of the patient's name and birth date, which ILS's last migration dropped.
        legacy = conn.execute(
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_name = 'orders' AND column_name = 'patient_name'").fetchone()[0] > 0
        columns = ("order_number, company_id, patient_id, ecp_id, status, lens_type, lens_material,"
                   " coating, frame_type, od_sphere, od_cylinder, od_axis, os_sphere, os_cylinder,"
                   " os_axis, pd, created_at, updated_at"
                   + (", patient_name, patient_dob" if legacy else ""))
        placeholders = ", ".join(["%s"] * (columns.count(",") + 1))
        insert = f"INSERT INTO orders ({columns}) VALUES ({placeholders})"  # noqa: S608 (own names)
        for i in range(1, orders + 1):
            patient_id, name, born = rnd.choice(patient_ids)  # type: ignore[misc]
            created = dt.datetime.now(dt.UTC) - dt.timedelta(
                days=rnd.randint(0, 120), minutes=rnd.randint(0, 600))
            values = (f"ORD-{created:%Y%m%d}-{i:05d}", company_id, patient_id, user_ids["smoke"],
                      rnd.choice(ORDER_STATUSES), rnd.choice(LENS_TYPES),
                      rnd.choice(LENS_MATERIALS), rnd.choice(COATINGS), rnd.choice(FRAME_TYPES),
                      _diopter(rnd), _diopter(rnd, 3), rnd.randint(1, 180), _diopter(rnd),
                      _diopter(rnd, 3), rnd.randint(1, 180), round(rnd.uniform(56, 70), 1),
                      created, created)
            conn.execute(insert, values + ((name, born) if legacy else ()))
        conn.execute(
            "INSERT INTO prescriptions (patient_id, company_id, od_sphere, os_sphere, pd)"
            " SELECT id, company_id, -1.25, -1.50, 63.0 FROM patients LIMIT 20"
        )
        conn.execute(
            "INSERT INTO audit_logs (user_id, company_id, action, entity_type, details)"
            " VALUES (%s, %s, 'seed', 'database', '{\"source\": \"ilsref\"}')",
            (user_ids["admin"], company_id),
        )
    return accounts


def _diopter(rnd: random.Random, span: int = 6) -> float:
    """A quarter-step lens power in [-span, +span/2]."""
    return rnd.randint(-span * 4, span * 2) / 4
