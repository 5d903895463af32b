# Generates difflib.json: random line lists and the unified diff Python's
# difflib gives for them, the vectors unifiedDiff is tested against.
# Run with python3 from this directory; the seed keeps it reproducible.
import difflib
import json
import random

random.seed(7)
cases = []
for n in range(50):
    vocab = [f"line{i}\n" for i in range(random.choice([2, 3, 5, 20]))] + ["x\n", "\n", " y\r\n"]
    a = [random.choice(vocab) for _ in range(random.randint(0, random.choice([5, 30, 300])))]
    b = list(a)
    for _ in range(random.randint(0, 8)):
        op = random.random()
        if op < 0.4 and b:
            b.pop(random.randrange(len(b)))
        elif op < 0.8:
            b.insert(random.randint(0, len(b)), random.choice(vocab))
        elif b:
            b[random.randrange(len(b))] = random.choice(vocab)
    if random.random() < 0.3 and b:
        b[-1] = b[-1].rstrip("\n")
    cases.append({"a": a, "b": b, "want": "".join(difflib.unified_diff(a, b))})
with open("difflib.json", "w") as f:
    json.dump(cases, f, indent=0)
    f.write("\n")
