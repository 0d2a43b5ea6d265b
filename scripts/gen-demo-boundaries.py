#!/usr/bin/env python3
"""Writes the demo city's boundary layers (wards, neighborhoods, ZIP codes) to data/demo/.

Each layer is a grid of cells over the city's extent whose interior corners are
jittered, so neighbouring features share exact edges (no gaps, no overlaps) but do not
look like a chessboard. One ZIP code is a MultiPolygon of two separate cells.
Deterministic: run it again and the files do not change.
"""
import json
import random
from pathlib import Path

WEST, EAST, SOUTH, NORTH = -104.70, -104.50, 40.10, 40.30
OUT = Path(__file__).resolve().parent.parent / "data" / "demo"


def grid(cols, rows, seed, jitter):
    rnd = random.Random(seed)
    dx, dy = (EAST - WEST) / cols, (NORTH - SOUTH) / rows
    pts = {}
    for i in range(cols + 1):
        for j in range(rows + 1):
            x, y = WEST + i * dx, SOUTH + j * dy
            if 0 < i < cols and 0 < j < rows:
                x += rnd.uniform(-jitter, jitter) * dx
                y += rnd.uniform(-jitter, jitter) * dy
            pts[(i, j)] = [round(x, 6), round(y, 6)]
    return pts


def cell(pts, i, j):
    ring = [pts[(i, j)], pts[(i + 1, j)], pts[(i + 1, j + 1)], pts[(i, j + 1)], pts[(i, j)]]
    return [ring]


def write(name, features):
    doc = {"type": "FeatureCollection", "features": features}
    (OUT / f"{name}.geojson").write_text(json.dumps(doc, indent=1) + "\n")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    pts = grid(4, 2, 3, 0.25)
    wards = []
    for n, (i, j) in enumerate([(i, j) for j in (1, 0) for i in range(4)], start=1):
        wards.append({"type": "Feature", "properties": {"id": str(n), "name": f"Ward {n}"},
                      "geometry": {"type": "Polygon", "coordinates": cell(pts, i, j)}})
    write("wards", wards)

    names = ["Northgate", "Cedar Hill", "Old Mill", "Lakeside",
             "Riverside", "Downtown", "Market District", "Union Yards",
             "Southgate", "Fairview", "College Park", "Brickworks",
             "Prairie View", "Elm Grove", "Foundry", "Meadowbrook"]
    pts = grid(4, 4, 11, 0.3)
    hoods = []
    for n, (i, j) in enumerate([(i, j) for j in (3, 2, 1, 0) for i in range(4)]):
        slug = names[n].lower().replace(" ", "-")
        hoods.append({"type": "Feature", "properties": {"id": slug, "name": names[n]},
                      "geometry": {"type": "Polygon", "coordinates": cell(pts, i, j)}})
    write("neighborhoods", hoods)

    pts = grid(3, 2, 5, 0.2)
    zips = []
    codes = {(0, 1): "80601", (1, 1): "80602", (2, 1): "80603", (1, 0): "80604"}
    for (i, j), code in codes.items():
        zips.append({"type": "Feature", "properties": {"id": code, "name": code},
                     "geometry": {"type": "Polygon", "coordinates": cell(pts, i, j)}})
    zips.append({"type": "Feature", "properties": {"id": "80605", "name": "80605"},
                 "geometry": {"type": "MultiPolygon", "coordinates": [cell(pts, 0, 0), cell(pts, 2, 0)]}})
    write("zipcodes", zips)


if __name__ == "__main__":
    main()
