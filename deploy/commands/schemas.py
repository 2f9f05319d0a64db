"""`chorus schemas check|lock|dictionary`: keep the contract evolvable and documented."""

from __future__ import annotations

from schemas.catalogue import build_catalogue
from schemas.dictionary import DICTIONARY_PATH, render
from schemas.evolution import blocking, check, load_lock, release, write_lock

EXIT_OK, EXIT_PROBLEMS = 0, 1


def run_check() -> int:
    problems = check(build_catalogue(), load_lock())
    for p in problems:
        print(f"schemas: {p}")
    dictionary_stale = (
        DICTIONARY_PATH.read_text(encoding="utf-8") != render(build_catalogue())
        if DICTIONARY_PATH.exists()
        else True
    )
    if dictionary_stale:
        print("schemas: schemas/DICTIONARY.md is not current; run `chorus schemas dictionary`")
    if problems or dictionary_stale:
        return EXIT_PROBLEMS
    print("schemas: every schema is released and backward compatible; the dictionary is current")
    return EXIT_OK


def run_lock() -> int:
    catalogue = build_catalogue()
    lock = load_lock()
    problems = blocking(check(catalogue, lock))
    if problems:
        for p in problems:
            print(f"schemas: {p}")
        print("schemas: nothing released; fix the problems above first")
        return EXIT_PROBLEMS
    released = release(catalogue, lock)
    write_lock(lock)
    for r in released:
        print(f"schemas: released {r}")
    if not released:
        print("schemas: nothing new to release")
    return EXIT_OK


def run_dictionary() -> int:
    DICTIONARY_PATH.write_text(render(build_catalogue()), encoding="utf-8")
    print(f"schemas: wrote {DICTIONARY_PATH.name}")
    return EXIT_OK
