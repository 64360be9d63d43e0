# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Precision and recall of the sensitive-data detector on its labelled corpus.

    python3 bench/bench_sensitive.py [--errors] [--throughput]

Pure Python (no Odoo): reads gdpr_crm/lib/tests/data/sensitive_*.tsv and
prints, for the whole corpus, the development part and the held-out part
(written before the rules were tuned, never used to tune them): precision
and recall overall, per language and per category. It asserts nothing.

Scoring, per sentence: the detector's prediction is the set of categories
it finds (confidence >= 0.5). A sentence labelled C is a true positive for
C when C is found, a false negative otherwise; a category found in a
sentence labelled "nothing sensitive" is a false positive for that
category. A category found beside the labelled one in a positive sentence
("genetic risk of heart disease": genetic and health) is not counted.
Overall and per-language figures are sentence-level: recall over positive
sentences, precision over sentences where something was found.

--throughput also times the detector on synthetic chatter messages
(HTML, ~300 characters, one in twenty sensitive) and on a 1 MB note.
"""

import importlib.util
import os
import random
import sys
import time
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.path.join(HERE, os.pardir, "gdpr_crm", "lib")
DATA = os.path.join(LIB, "tests", "data")

spec = importlib.util.spec_from_file_location("sensitive", os.path.join(LIB, "sensitive.py"))
sensitive = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sensitive)


def load(part):
    rows = []
    with open(os.path.join(DATA, f"sensitive_{part}.tsv"), encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            lang, label, sentence = line.split("\t", 2)
            rows.append((part, lang, label, sentence))
    return rows


def ratio(num, den):
    return num / den if den else 1.0


def score(rows):
    """Return (overall, per_lang, per_category, errors)."""
    cat = defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    sent = defaultdict(lambda: [0, 0, 0])  # key: lang or "all"
    errors = []
    for part, lang, label, sentence in rows:
        found = {f.category for f in sensitive.detect(sentence)}
        for key in (lang, "all"):
            counts = sent[key]
            if label == "-":
                if found:
                    counts[1] += 1
            elif label in found:
                counts[0] += 1
            else:
                counts[2] += 1
                if found:
                    counts[1] += 1  # found something, but not what is there
        if label == "-":
            for category in found:
                cat[(lang, category)][1] += 1
                cat[("all", category)][1] += 1
            if found:
                errors.append((part, lang, "FP " + ",".join(sorted(found)), sentence))
        else:
            for key in (lang, "all"):
                cat[(key, label)][0 if label in found else 2] += 1
            if label not in found:
                errors.append((part, lang, f"FN {label} (found: {','.join(sorted(found)) or '-'})", sentence))
    return sent, cat, errors


def report(title, rows, show_errors):
    sent, cat, errors = score(rows)
    print(f"\n== {title}: {len(rows)} sentences ==")
    print(f"{'':28}{'precision':>10}{'recall':>8}{'n':>6}")
    for key in ("all", "fr", "en"):
        tp, fp, fn = sent[key]
        print(f"{'sentences ' + key:28}{ratio(tp, tp + fp):>10.3f}{ratio(tp, tp + fn):>8.3f}{tp + fn:>6}")
    for category in sensitive.CATEGORIES:
        line = f"{category:28}"
        for key in ("all", "fr", "en"):
            tp, fp, fn = cat[(key, category)]
            line += f"  {key} P {ratio(tp, tp + fp):.2f} R {ratio(tp, tp + fn):.2f} ({tp + fn})"
        print(line)
    if show_errors:
        for error in errors:
            print("  ", *error, sep=" | ")
    return sent


def throughput():
    rng = random.Random(15)
    plain = (
        "<p>Bonjour, suite à notre échange de ce matin, je vous envoie le devis pour les {n} postes. "
        "La livraison est prévue le {d}/0{m}, merci de confirmer l'adresse. Cordialement, l'équipe commerciale.</p>"
    )
    hot = "<p>Note : le client est diabétique et syndiqué, IBAN FR76 3000 6000 0112 3456 7890 189.</p>"
    messages = [
        hot if i % 20 == 0 else plain.format(n=rng.randint(1, 99), d=rng.randint(10, 28), m=rng.randint(1, 9))
        for i in range(50000)
    ]
    start = time.perf_counter()
    found = sum(len(sensitive.detect(m)) for m in messages)
    elapsed = time.perf_counter() - start
    print(
        f"\nthroughput: {len(messages)} messages in {elapsed:.2f} s = {len(messages) / elapsed:,.0f} messages/s "
        f"({found} findings)"
    )
    big = ("Le client a appelé pour sa commande. " * 30000)[: 1 << 20]
    for label, text in (
        ("1 MB plain note", big),
        ("1 MB binary garbage", bytes(rng.getrandbits(8) for _ in range(1 << 20))),
    ):
        start = time.perf_counter()
        sensitive.detect(text)
        print(f"{label}: {time.perf_counter() - start:.2f} s")


def main():
    show_errors = "--errors" in sys.argv
    dev, holdout = load("dev"), load("holdout")
    report("whole corpus", dev + holdout, False)
    report("development part (rules tuned on it)", dev, show_errors)
    report("held-out part (written before tuning, not tuned on)", holdout, show_errors)
    if "--throughput" in sys.argv:
        throughput()


if __name__ == "__main__":
    main()
