#!/usr/bin/env python3
"""Writes the contacts benchmark's input: a CSV of N contacts (header email, external_id, status,
timezone, locale, plan, city, score:number), every address distinct, as `rapport contacts
import` and sqlite3's `.import` both read it.
Usage: gen.py OUT.csv [N]"""
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
plans = ["free", "pro", "team", "enterprise"]
cities = ["Lyon", "Paris", "Berlin", "Madrid", "Oslo", "Porto", "Turin", "Ghent"]
statuses = ["active"] * 17 + ["unsubscribed", "bounced", "complained"]
with open(out, "w", newline="") as f:
    f.write("email,external_id,status,timezone,locale,plan,city,score:number\n")
    for i in range(n):
        f.write(f"user{i}@example{i % 97}.com,ext-{i},{statuses[i % 20]},Europe/Paris,fr-FR,"
                f"{plans[i % 4]},{cities[i % 8]},{(i * 37) % 1000}.5\n")
