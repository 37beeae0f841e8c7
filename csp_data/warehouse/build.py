"""Build ``data/warehouse/`` (Parquet) from the raw files listed in ``data/sources/manifest.json``.

The warehouse is a pure function of the sources: building twice gives byte-identical files, and
``ingest`` simply lands a new raw file and rebuilds. The whole warehouse is written to a staging
folder beside it and swapped in only after every table and the stamp are written, so a failed
build leaves the previous warehouse intact. The stamp is written last: a warehouse folder whose
stamp does not match the sources is stale and is rebuilt. Builds of one data folder are
serialised with an ``flock`` so the app and a CLI (or parallel test workers) never build at once.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from csp_data.config import Settings
from csp_data.config import settings as get_settings
from csp_data.warehouse import geo, london, manifest
from csp_data.warehouse.fileio import folder_lock
from csp_data.warehouse.sources import SourceError, mps, police_uk

BUILD_VERSION = "3"  # bump (2: dashboard keeps London borough rows; 3: London stop and search, population, features) when a table's definition changes, to force rebuilds
STAMP = "_build.json"

# police.uk street and outcomes files are cut to one borough when they land: the borough is
# ``extra["borough_code"]`` in the manifest, written by ingest. Files landed before issue 17 (the
# embedded ones) cover Tower Hamlets, the only borough served then. The build reads only the files of
# the configured borough; others wait as "awaiting data". Stop-and-search files are not among them:
# their records carry no area, and the build places each one by point-in-polygon (_stop_search),
# keeping the configured borough's, so the Met-wide file serves every borough.
ONE_BOROUGH_KINDS = ("policeuk_street", "policeuk_outcomes")
LEGACY_FILE_BOROUGH = "E09000030"


def file_borough(entry: manifest.Entry) -> str | None:
    """The ONS code of the one borough a source file covers, or None for a London-wide file."""
    if entry.kind not in ONE_BOROUGH_KINDS:
        return None
    return str(entry.extra.get("borough_code") or LEGACY_FILE_BOROUGH)


Progress = Callable[[float, str], None]


def _noop(_: float, __: str) -> None:
    return None


# ----------------------------------------------------------------------------- helpers


def _read_table(path: Path) -> pd.DataFrame:
    name = path.name.lower()
    if name.endswith(".parquet"):
        return pd.read_parquet(path)
    if name.endswith((".csv", ".csv.gz")):
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[])
    raise SourceError(f"{path.name}: unsupported file type")


def _sorted(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return df.sort_values(keys, kind="mergesort", na_position="first").reset_index(drop=True)


def _newest_per_partition(frames: list[tuple[manifest.Entry, pd.DataFrame]], part: list[str]) -> pd.DataFrame:
    """Keep, for each partition (e.g. level x month), only the rows of the newest snapshot."""
    if not frames:
        return pd.DataFrame()
    tagged = []
    for rank, (_entry, df) in enumerate(sorted(frames, key=lambda f: f[0].precedence)):
        tagged.append(df.assign(_rank=rank))
    allrows = pd.concat(tagged, ignore_index=True)
    best = allrows.groupby(part, dropna=False)["_rank"].transform("max")
    return allrows[allrows["_rank"] == best].drop(columns="_rank")


def _revisions(
    frames: list[tuple[manifest.Entry, pd.DataFrame]], kept: pd.DataFrame, key: list[str]
) -> pd.DataFrame:
    """Where a superseded snapshot gave a different count for the same key, log both."""
    cols = key + ["kept_source", "kept_count", "superseded_source", "superseded_count"]
    if kept.empty:
        return pd.DataFrame(columns=cols)
    k = kept[key + ["source_file", "count"]].rename(
        columns={"source_file": "kept_source", "count": "kept_count"}
    )
    out = []
    for entry, df in frames:
        months = set(df["month"]) & set(kept.loc[kept.source_file != entry.path, "month"])
        if not months:
            continue
        old = df[df["month"].isin(months)][key + ["count"]].rename(columns={"count": "superseded_count"})
        merged = k[k["month"].isin(months) & (k.kept_source != entry.path)].merge(old, on=key, how="outer")
        merged["kept_source"] = merged["kept_source"].fillna(
            merged.groupby("month")["kept_source"].transform("first")
        )
        merged["kept_count"] = merged["kept_count"].fillna(0).astype("int64")
        merged["superseded_count"] = merged["superseded_count"].fillna(0).astype("int64")
        merged = merged[merged.kept_count != merged.superseded_count]
        out.append(merged.assign(superseded_source=entry.path)[cols])
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)


# ----------------------------------------------------------------------------- tables


def _geography(cfg: Settings, g: geo.Geography) -> dict[str, pd.DataFrame]:
    """The borough's wards and LSOAs with Census 2021 usual residents (see ``geo.geography``)."""
    look = geo.borough_lookup(g)
    if look.empty:
        raise SourceError(f"{g.lookup.name} has no LSOAs for {cfg.borough_name} ({cfg.borough_code})")
    if g.own:
        age = _read_table(g.population)
        pop = age[["geography code", "Age: Total"]].rename(
            columns={"geography code": "lsoa21_code", "Age: Total": "population"}
        )
    else:
        res = _read_table(g.population)
        pop = res[["lsoa21cd", "all_usual_residents"]].rename(
            columns={"lsoa21cd": "lsoa21_code", "all_usual_residents": "population"}
        )
    pop["population"] = pop["population"].astype("int64")
    lsoas = look[["lsoa21_code", "lsoa21_name", "ward_code"]].merge(pop, on="lsoa21_code", how="left")
    if lsoas["population"].isna().any():
        raise SourceError("census file lacks population for some LSOAs in the lookup")
    if g.own:
        assert g.ward_names is not None
        names = _read_table(g.ward_names)
        wards = names.rename(
            columns={"ward_name_ons_2025": "ward_name", "ward_name_2014_to_2022": "ward_name_mps"}
        )[["ward_code", "ward_name", "ward_name_mps"]]
    else:
        wards = look[["ward_code", "ward_name"]].drop_duplicates("ward_code")
        wards = wards.assign(ward_name_mps=wards["ward_name"])
    wpop = lsoas.groupby("ward_code", as_index=False)["population"].sum()
    wards = wards.merge(wpop, on="ward_code", how="left")
    wards["population"] = wards["population"].fillna(0).astype("int64")
    return {"wards": _sorted(wards, ["ward_code"]), "lsoas": _sorted(lsoas, ["lsoa21_code"])}


def _london_boroughs(cfg: Settings, by_kind: dict[str, list[manifest.Entry]]) -> pd.DataFrame:
    """Borough name -> ONS code, read from the LSOA files (their names start with the borough)."""
    rows = []
    for e in by_kind.get("mps_wide_lsoa", []):
        df = _read_table(cfg.sources_dir / e.path)
        df = df.rename(columns={c: mps.normalise_header(c) for c in df.columns})
        rows.append(df[["borough", "lsoa_name"]].drop_duplicates("borough"))
    if not rows:
        return pd.DataFrame({"borough_code": [cfg.borough_code], "borough_name": [cfg.borough_name]})
    both = pd.concat(rows).drop_duplicates("borough")
    both["borough_name"] = both["lsoa_name"].str.replace(r"\s+\S+$", "", regex=True)
    out = both.rename(columns={"borough": "borough_code"})[["borough_code", "borough_name"]]
    return _sorted(out.drop_duplicates("borough_code"), ["borough_code"])


def _crime(cfg: Settings, by_kind, boroughs: pd.DataFrame, wards: pd.DataFrame, lsoas: pd.DataFrame):
    name_to_code = dict(zip(boroughs.borough_name, boroughs.borough_code))
    kept_all, revs, cover = [], [], []
    for level, kind in (
        ("borough", "mps_wide_borough"),
        ("ward", "mps_wide_ward"),
        ("lsoa", "mps_wide_lsoa"),
    ):
        frames = []
        for e in by_kind.get(kind, []):
            long, info = mps.read_wide(_read_table(cfg.sources_dir / e.path), level=level)
            if level == "borough":
                long["area_code"] = long["area_name"].map(name_to_code)
                long["borough_name"] = long["area_name"]
            elif level == "ward":
                long = long[long["borough_name"] == cfg.borough_name]
                unknown = set(long["area_code"]) - set(wards.ward_code)
                if unknown:
                    raise SourceError(f"{e.path}: ward codes not in the ward lookup: {sorted(unknown)[:5]}")
                long = long.drop(columns="area_name").merge(
                    wards[["ward_code", "ward_name"]].rename(
                        columns={"ward_code": "area_code", "ward_name": "area_name"}
                    ),
                    on="area_code",
                )
            else:
                long = long[long["borough_code"] == cfg.borough_code].drop(columns="borough_code")
                long["borough_name"] = cfg.borough_name
            long["source_file"] = e.path
            frames.append((e, long))
            cover.append(
                {
                    "dataset": f"crime_{level}",
                    "source_file": e.path,
                    "snapshot": e.snapshot,
                    "first_month": min(long["month"]) if len(long) else None,
                    "last_month": max(long["month"]) if len(long) else None,
                    "stub_months": ",".join(info["stub_months"]),
                }
            )
        kept = _newest_per_partition(frames, ["month"])
        if kept.empty:
            continue
        kept["level"] = level
        key = ["area_code", "area_name", "month", "major_category", "minor_category"]
        if level == "borough":
            key = ["area_name", "month", "major_category", "minor_category"]
        r = _revisions(frames, kept, key)
        r["level"] = level
        if "area_code" not in r:
            r["area_code"] = r["area_name"].map(name_to_code)
        revs.append(r)
        kept_all.append(kept)
    crime = pd.concat(kept_all, ignore_index=True)
    crime["borough_code"] = crime["borough_name"].map(name_to_code)
    crime["offence_group"] = mps.offence_group(crime["minor_category"])
    snap = {e.path: e.snapshot for es in by_kind.values() for e in es}
    crime["snapshot"] = crime["source_file"].map(snap)
    crime = crime[
        [
            "level",
            "area_code",
            "area_name",
            "borough_code",
            "borough_name",
            "month",
            "major_category",
            "minor_category",
            "offence_group",
            "count",
            "source_file",
            "snapshot",
        ]
    ]
    crime = _sorted(crime, ["level", "area_name", "month", "major_category", "minor_category"])
    revisions = pd.concat(revs, ignore_index=True) if revs else pd.DataFrame()
    revisions = _sorted(
        revisions[
            [
                "level",
                "area_code",
                "area_name",
                "month",
                "major_category",
                "minor_category",
                "kept_source",
                "kept_count",
                "superseded_source",
                "superseded_count",
            ]
        ],
        ["level", "area_name", "month", "major_category", "minor_category", "superseded_source"],
    )
    coverage = pd.DataFrame(cover)
    return crime, revisions, coverage


def _dashboard(cfg: Settings, by_kind) -> tuple[pd.DataFrame, list[dict]]:
    frames = []
    for e in by_kind.get("mps_dashboard", []):
        df = mps.dashboard(_read_table(cfg.sources_dir / e.path), cfg.borough_name)
        df["source_file"] = e.path
        df["snapshot"] = e.snapshot
        frames.append((e, df))
    # precedence per crime type x month: the knife-only refresh replaces knife rows only
    kept = _newest_per_partition(frames, ["crime_type", "month"])
    kept = kept[
        [
            "month",
            "area_level",
            "area_code",
            "crime_type",
            "crime_subtype",
            "measure",
            "count",
            "refresh_date",
            "source_file",
            "snapshot",
        ]
    ]
    cover = [
        {
            "dataset": "dashboard",
            "source_file": e.path,
            "snapshot": e.snapshot,
            "first_month": min(d["month"]) if len(d) else None,
            "last_month": max(d["month"]) if len(d) else None,
            "stub_months": "",
        }
        for e, d in frames
    ]
    return _sorted(
        kept, ["crime_type", "crime_subtype", "measure", "area_level", "area_code", "month"]
    ), cover


def _business(cfg: Settings, by_kind) -> tuple[pd.DataFrame, list[dict]]:
    frames = []
    for e in by_kind.get("mps_business_offences", []):
        df = mps.business_offences(_read_table(cfg.sources_dir / e.path))
        df["source_file"] = e.path
        df["snapshot"] = e.snapshot
        frames.append((e, df))
    kept = _newest_per_partition(frames, ["month"])
    cover = [
        {
            "dataset": "business_crime",
            "source_file": e.path,
            "snapshot": e.snapshot,
            "first_month": min(d["month"]),
            "last_month": max(d["month"]),
            "stub_months": "",
        }
        for e, d in frames
    ]
    return _sorted(kept, ["borough_name", "month", "major_category", "minor_category"]), cover


def read_street_source(cfg: Settings, path: Path) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """(kept tidy rows, quarantined rows, rows read, rows outside the borough) of one street file."""
    if path.name.lower().endswith(".zip"):
        parts = [police_uk.read_zip_member(path, m) for m in police_uk.zip_members(path, "street")]
        raw = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=police_uk.STREET_COLUMNS)
        spatial = False
    else:
        raw, spatial = police_uk.read_street(path)
    kept, quarantined, outside = police_uk.validate_street(raw, cfg.borough_name, spatial=spatial)
    return police_uk.tidy_street(kept), quarantined, len(raw), outside


def _no_rows(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


def _empty_street() -> pd.DataFrame:
    """The street table's columns with no rows: a borough with no police.uk files (awaiting data)."""
    kept, _, _ = police_uk.validate_street(_no_rows(police_uk.STREET_COLUMNS), "", spatial=False)
    return police_uk.tidy_street(kept).assign(source_file="", snapshot="", _spatial=False).iloc[0:0]


def _empty_stop_search() -> pd.DataFrame:
    raw = _no_rows(police_uk.STOP_SEARCH_COLUMNS).assign(source_row=pd.Series(dtype="int64"))
    tidy, _ = police_uk.validate_stop_search(raw)
    tidy = tidy.astype({"longitude": "float64", "latitude": "float64"})
    return tidy.assign(source_file="", snapshot="").iloc[0:0]


def _street(cfg: Settings, by_kind, lsoa_poly, ward_poly) -> tuple[pd.DataFrame, pd.DataFrame, list[dict]]:
    frames, quarantine, cover = [], [], []
    for e in by_kind.get("policeuk_street", []):
        tidy, q, _, _ = read_street_source(cfg, cfg.sources_dir / e.path)
        tidy["source_file"] = e.path
        tidy["snapshot"] = e.snapshot
        tidy["_spatial"] = police_uk.is_json_path(
            Path(e.path)
        )  # API rows: kept only if their point is inside
        frames.append((e, tidy))
        if len(q):
            quarantine.append(
                pd.DataFrame(
                    {
                        "source_file": e.path,
                        "source_row": q["source_row"],
                        "reason": q["reason"],
                        "raw": q.drop(columns=["source_row", "reason"])
                        .to_json(orient="records", lines=True)
                        .splitlines(),
                    }
                )
            )
        cover.append(
            {
                "dataset": "street_crime",
                "source_file": e.path,
                "snapshot": e.snapshot,
                "first_month": min(tidy["month"]) if len(tidy) else None,
                "last_month": max(tidy["month"]) if len(tidy) else None,
                "stub_months": "",
            }
        )
    kept = _newest_per_partition(frames, ["month", "crime_type"]) if frames else _empty_street()
    kept = kept.reset_index(drop=True)
    kept["lsoa21_code"], kept["geo_status"] = geo.assign_codes(kept["longitude"], kept["latitude"], lsoa_poly)
    kept["ward_code"], _ = geo.assign_codes(kept["longitude"], kept["latitude"], ward_poly)
    kept["ward_code"] = geo.fill_nearest(
        kept["ward_code"], kept["longitude"], kept["latitude"], ward_poly, only=kept["geo_status"] == "inside"
    )
    kept["ward_code"] = kept["ward_code"].where(
        kept["geo_status"] == "inside"
    )  # outside the borough: no ward
    if "_spatial" in kept:
        kept = kept[~(kept["_spatial"].astype(bool) & (kept["geo_status"] != "inside"))].drop(
            columns="_spatial"
        )
    q = (
        pd.concat(quarantine, ignore_index=True)
        if quarantine
        else pd.DataFrame(columns=["source_file", "source_row", "reason", "raw"])
    )
    return _sorted(kept, ["month", "crime_type", "source_file", "source_row"]), q, cover


def _stop_search(
    cfg: Settings, by_kind, lsoa_poly, ward_poly, london_poly=None
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict], pd.DataFrame]:
    """(the borough's records, quarantined rows, coverage, the London table). Files may be Met-wide:
    each record is placed by point-in-polygon (the newest file wins each month, as elsewhere); the
    borough's records are placed by the build's LSOA polygons when they are the borough's, else by
    the London LSOA polygons (:mod:`csp_data.warehouse.london`)."""
    frames, quarantine, cover, london_counts = [], [], [], []
    for e in by_kind.get("policeuk_stop_search", []):
        raw = police_uk.read_stop_search(cfg.sources_dir / e.path)
        tidy, q = police_uk.validate_stop_search(raw)
        tidy["source_file"] = e.path
        tidy["snapshot"] = e.snapshot
        if london_poly is not None:
            london_counts.append(
                (e, london.stop_search_counts(london.place_in_boroughs(tidy, london_poly), e))
            )
        frames.append((e, tidy))
        if len(q):
            quarantine.append(
                pd.DataFrame(
                    {
                        "source_file": e.path,
                        "source_row": q["source_row"],
                        "reason": q["reason"],
                        "raw": q.drop(columns=["source_row", "reason"])
                        .to_json(orient="records", lines=True)
                        .splitlines(),
                    }
                )
            )
    # the newest file wins each month (as _newest_per_partition), decided before placing so that
    # only the winning rows are placed
    ranked = sorted(frames, key=lambda f: f[0].precedence)
    winner: dict = {}
    for rank, (_e, d) in enumerate(ranked):
        for m in set(d["month"]):
            winner[m] = rank
    parts = [d[d["month"].map(winner) == rank] for rank, (_e, d) in enumerate(ranked)]
    kept = pd.concat(parts, ignore_index=True) if parts else _empty_stop_search()
    own = lsoa_poly
    if london_poly is not None and not london.covers(lsoa_poly, london_poly, cfg.borough_code):
        own = london.in_borough(london_poly, cfg.borough_code)
    kept["lsoa21_code"], kept["geo_status"] = london.place_unique(kept["longitude"], kept["latitude"], own)
    # stop-and-search files have no area column: only records placed inside the borough are kept
    kept = kept[kept["geo_status"] == "inside"].reset_index(drop=True)
    kept["ward_code"], _ = geo.assign_codes(kept["longitude"], kept["latitude"], ward_poly)
    kept["ward_code"] = geo.fill_nearest(
        kept["ward_code"], kept["longitude"], kept["latitude"], ward_poly, only=kept["geo_status"] == "inside"
    )
    for e, d in frames:
        cover.append(
            {
                "dataset": "stop_search",
                "source_file": e.path,
                "snapshot": e.snapshot,
                "first_month": min(d["month"]) if len(d) else None,
                "last_month": max(d["month"]) if len(d) else None,
                "stub_months": "",
            }
        )
    q = (
        pd.concat(quarantine, ignore_index=True)
        if quarantine
        else pd.DataFrame(columns=["source_file", "source_row", "reason", "raw"])
    )
    return (
        _sorted(kept, ["searched_at", "source_file", "source_row"]),
        q,
        cover,
        london.stop_search_london(london_counts),
    )


def read_outcomes_api(path: Path, lsoa_poly) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """(rows inside the borough, quarantined rows, rows read, rows outside) of a saved
    /api/outcomes-at-location response: rows are placed by their crime's point."""
    raw = police_uk.api_outcomes_frame(police_uk.read_json_records(path), path.name)
    tidy, q = police_uk.validate_outcomes_api(raw)
    _, status = geo.assign_codes(tidy["longitude"], tidy["latitude"], lsoa_poly)
    inside = (status == "inside").to_numpy()
    return (
        tidy[inside].drop(columns=["longitude", "latitude"]).reset_index(drop=True),
        q,
        len(raw),
        int((~inside).sum()),
    )


def _outcomes(cfg: Settings, by_kind, lsoa_poly) -> tuple[pd.DataFrame, pd.DataFrame]:
    frames, quarantine = [], []
    for e in by_kind.get("policeuk_outcomes", []):
        path = cfg.sources_dir / e.path
        if police_uk.is_json_path(path):
            df, q, _, _ = read_outcomes_api(path, lsoa_poly)
            df = df.drop(columns="source_row")
            if len(q):
                quarantine.append(
                    pd.DataFrame(
                        {
                            "source_file": e.path,
                            "source_row": q["source_row"],
                            "reason": q["reason"],
                            "raw": q.drop(columns=["source_row", "reason"])
                            .to_json(orient="records", lines=True)
                            .splitlines(),
                        }
                    )
                )
        else:
            df = police_uk.tidy_outcomes(police_uk.read_csv_text(path), cfg.borough_name)
        df["source_file"] = e.path
        frames.append((e, df))
    if frames:
        kept = _newest_per_partition(frames, ["month"])
    else:
        kept = (
            police_uk.tidy_outcomes(_no_rows(police_uk.OUTCOME_COLUMNS), "").assign(source_file="").iloc[0:0]
        )
    q = (
        pd.concat(quarantine, ignore_index=True)
        if quarantine
        else pd.DataFrame(columns=["source_file", "source_row", "reason", "raw"])
    )
    return _sorted(kept, ["month", "crime_id", "outcome_type"]), q


# ----------------------------------------------------------------------------- orchestration


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    table = table.replace_schema_metadata(None)  # no pandas/library version strings: identical bytes
    pq.write_table(table, path, compression="zstd", write_statistics=True)


def build_tables(cfg: Settings, progress: Progress = _noop) -> dict[str, pd.DataFrame]:
    entries = manifest.load(cfg.manifest_path)
    problems = manifest.verify(cfg.sources_dir, entries)
    if problems:
        raise manifest.ManifestError("; ".join(problems))
    by_kind: dict[str, list[manifest.Entry]] = {}
    for e in sorted(entries, key=lambda e: e.precedence):
        if file_borough(e) not in (None, cfg.borough_code):
            continue  # another borough's police.uk file: never mixed in
        by_kind.setdefault(e.kind, []).append(e)
    g = geo.geography(cfg, entries)

    progress(0.05, "Reading geography and population")
    tables = _geography(cfg, g)
    tables["boroughs"] = _london_boroughs(cfg, by_kind)
    lsoa_poly = geo.lsoa_polygons(cfg)
    ward_poly = geo.ward_polygons(cfg)

    progress(0.15, "Reshaping MPS recorded crime (borough, ward, LSOA)")
    crime, revisions, cover = _crime(cfg, by_kind, tables["boroughs"], tables["wards"], tables["lsoas"])
    tables["crime_monthly"], tables["crime_revisions"] = crime, revisions
    cover = cover.to_dict("records")

    progress(0.45, "Reading the MPS monthly crime dashboard")
    tables["dashboard_monthly"], c = _dashboard(cfg, by_kind)
    cover += c
    progress(0.55, "Reading MPS business crime")
    tables["business_crime_monthly"], c = _business(cfg, by_kind)
    cover += c

    progress(0.65, "Placing police.uk street crime in wards and LSOAs")
    street, q1, c = _street(cfg, by_kind, lsoa_poly, ward_poly)
    tables["street_crime"] = street
    cover += c
    progress(0.8, "Placing stop and search records")
    london_poly = london.lsoa_polygons(cfg.sources_dir, by_kind)
    tables["stop_search"], q2, c, tables["stop_search_london"] = _stop_search(
        cfg, by_kind, lsoa_poly, ward_poly, london_poly
    )
    cover += c
    tables["borough_population"] = london.borough_population(cfg.sources_dir, by_kind)
    tables["borough_features"] = london.borough_features(cfg.sources_dir, by_kind, london_poly)
    tables["street_outcomes"], q3 = _outcomes(cfg, by_kind, lsoa_poly)
    tables["quarantine"] = _sorted(pd.concat([q1, q2, q3], ignore_index=True), ["source_file", "source_row"])
    tables["coverage"] = _sorted(pd.DataFrame(cover), ["dataset", "source_file"])
    src = pd.DataFrame(
        [
            {
                k: getattr(e, k)
                for k in (
                    "path",
                    "kind",
                    "snapshot",
                    "as_of",
                    "publisher",
                    "licence",
                    "origin",
                    "sha256",
                    "bytes",
                    "landed_at",
                    "landed_by",
                )
            }
            for e in entries
        ]
    )
    tables["sources"] = _sorted(src, ["path"])
    check_one_borough(cfg, tables)
    return tables


def check_one_borough(cfg: Settings, tables: dict[str, pd.DataFrame]) -> None:
    """SourceError if any ward or LSOA of another borough would reach the warehouse: the wards and
    LSOAs are checked against the London-wide best-fit lookup (when the manifest has it), and every
    ward-, LSOA- and point-level row against the borough's own wards and LSOAs."""
    where = f"{cfg.borough_name} ({cfg.borough_code})"
    london = geo.london_lookup(cfg)
    if len(london):
        lad_of_ward = london.drop_duplicates("ward_code").set_index("ward_code")["lad_code"]
        lad_of_lsoa = london.set_index("lsoa21_code")["lad_code"]
        for table, col, lad in (("wards", "ward_code", lad_of_ward), ("lsoas", "lsoa21_code", lad_of_lsoa)):
            codes = tables[table][col]
            other = sorted(set(codes[codes.map(lad).fillna(cfg.borough_code) != cfg.borough_code]))
            if other:
                raise SourceError(
                    f"build stopped: {table} of another borough would enter the warehouse of {where}: {other[:5]}"
                )
    wards, lsoas = set(tables["wards"]["ward_code"]), set(tables["lsoas"]["lsoa21_code"])
    crime = tables["crime_monthly"]
    local = crime[crime["level"] != "borough"]
    checks = [
        ("crime_monthly (ward)", set(crime.loc[crime["level"] == "ward", "area_code"]) - wards),
        ("crime_monthly (lsoa)", set(crime.loc[crime["level"] == "lsoa", "area_code"]) - lsoas),
        ("crime_monthly", set(local["borough_code"].dropna()) - {cfg.borough_code}),
    ]
    for table in ("street_crime", "stop_search"):
        df = tables[table]
        checks.append((f"{table} (ward)", set(df["ward_code"].dropna()) - wards))
        checks.append((f"{table} (lsoa)", set(df["lsoa21_code"].dropna()) - lsoas))
    for what, bad in checks:
        if bad:
            raise SourceError(f"build stopped: {what} holds areas outside {where}: {sorted(bad)[:5]}")


def stamp_for(cfg: Settings) -> dict:
    entries = manifest.load(cfg.manifest_path)
    return {
        "build_version": BUILD_VERSION,
        "sources_digest": manifest.digest(entries),
        "borough_code": cfg.borough_code,
    }


def _build_lock(cfg: Settings):
    """Exclusive lock per data folder (blocking): concurrent builders wait their turn. The lock is
    an ``flock`` on the data folder itself (:func:`csp_data.warehouse.fileio.folder_lock`), so no
    lock file is left behind."""
    return folder_lock(cfg.data_dir)


def _swap_in(staging: Path, out: Path) -> None:
    """Replace folder ``out`` by ``staging``. Between the two renames there is no warehouse, which
    readers see as "stale" and rebuild; there is never a mix of old and new tables."""
    old = None
    if out.exists():
        old = out.parent / f".warehouse-old-{os.getpid()}"
        shutil.rmtree(old, ignore_errors=True)
        os.rename(out, old)
    os.rename(staging, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _build_locked(cfg: Settings, progress: Progress) -> dict[str, int]:
    tables = build_tables(cfg, progress)
    out = cfg.warehouse_dir
    out.parent.mkdir(parents=True, exist_ok=True)
    for leftover in out.parent.glob(".warehouse-*"):  # from a build killed mid-way
        shutil.rmtree(leftover, ignore_errors=True)
    progress(0.9, "Writing the warehouse")
    staging = Path(tempfile.mkdtemp(prefix=".warehouse-staging-", dir=out.parent))
    try:
        for name, df in tables.items():
            _write_parquet(df, staging / f"{name}.parquet")
        stamp = json.dumps(stamp_for(cfg), indent=1, sort_keys=True) + "\n"
        manifest.atomic_write_bytes(staging / STAMP, stamp.encode())
        _swap_in(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    progress(1.0, "Warehouse ready")
    return {name: len(df) for name, df in tables.items()}


def build(cfg: Settings | None = None, progress: Progress = _noop) -> dict[str, int]:
    """Build every table and swap the new warehouse in whole. Returns row counts."""
    cfg = cfg or get_settings()
    with _build_lock(cfg):
        return _build_locked(cfg, progress)


def ensure_built(cfg: Settings | None = None, progress: Progress = _noop) -> tuple[bool, str]:
    """Build if missing or stale (checked again under the lock). Returns (built?, why)."""
    cfg = cfg or get_settings()
    with _build_lock(cfg):
        stale, why = is_stale(cfg)
        if stale:
            _build_locked(cfg, progress)
        return stale, why


def is_stale(cfg: Settings | None = None) -> tuple[bool, str]:
    """(stale?, why) — missing warehouse, changed sources, or a newer build definition."""
    cfg = cfg or get_settings()
    stamp_path = cfg.warehouse_dir / STAMP
    if not stamp_path.exists():
        return True, "no warehouse has been built yet"
    try:
        stamp = json.loads(stamp_path.read_text())
    except json.JSONDecodeError:
        return True, "the warehouse stamp is unreadable"
    want = stamp_for(cfg)
    if stamp.get("build_version") != want["build_version"]:
        return True, "the build definition has changed"
    if (
        stamp.get("sources_digest") != want["sources_digest"]
        or stamp.get("borough_code") != want["borough_code"]
    ):
        return True, "the sources have changed since the last build"
    for table in TABLES:
        if not (cfg.warehouse_dir / f"{table}.parquet").exists():
            return True, f"table {table} is missing"
    return False, "up to date"


TABLES = (
    "wards",
    "lsoas",
    "boroughs",
    "crime_monthly",
    "crime_revisions",
    "dashboard_monthly",
    "business_crime_monthly",
    "street_crime",
    "stop_search",
    "street_outcomes",
    "quarantine",
    "stop_search_london",
    "borough_population",
    "borough_features",
    "coverage",
    "sources",
)
