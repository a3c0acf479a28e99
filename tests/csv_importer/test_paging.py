"""Lists a person pages through (an import's flagged rows, the imports) page by key: every row once, in order,
whatever page it is on."""

import re
from urllib.parse import urljoin

from sqlalchemy import text

from tests.helpers.known_data import IMPORT_ID


def follow(importer, url: str, link: str, row: str) -> list[str]:
    """Every row found by following the `link` of each page from `url`."""
    seen = []
    while url:
        page = importer.get(url)
        assert page.status_code == 200
        seen += re.findall(row, page.text)
        found = re.search(link, page.text)
        url = urljoin(url, found.group(1).replace("&amp;", "&")) if found else None
    return seen


def test_an_imports_flagged_rows_page_forward_and_back_by_line(importer, known):
    lines = list(range(3, 3 + 3 * 130, 3))  # 130 suspicious rows, every third line
    with known.begin() as conn:
        conn.execute(text("INSERT INTO import_flags (import_id, kind, line_number, fields) "
                          "VALUES (:id, 'suspicious', :line, CAST(:fields AS jsonb))"),
                     [{"id": IMPORT_ID, "line": line, "fields": f'["alice", "bob", "{9000 + line}"]'}
                      for line in lines])
    base = f"/imports/{IMPORT_ID}"

    row = r'<td class="num">(\d+)</td>\s*<td>alice'
    forward = follow(importer, base, r'href="(\?suspicious_after=\d+)#suspicious">Next', row)
    last_page = importer.get(f"{base}?suspicious_after={lines[-11]}")
    back = follow(importer, f"{base}?suspicious_after={lines[-11]}",
                  r'href="(\?suspicious_before=\d+)#suspicious">Previous', row)

    assert [int(n) for n in forward] == lines
    assert "lines 363–390 of 130 rows" in last_page.text.replace(",", "")
    assert sorted(int(n) for n in back) == lines


def test_the_imports_page_back_by_key_each_once(importer, known):
    with known.begin() as conn:  # 250 imports, some uploaded at the same second
        conn.execute(text("""
            INSERT INTO imports (import_id, file_name, sha256, s3_key, size_bytes, rows_read, rows_unique,
                                 rows_duplicate, rows_suspicious, rows_malformed, rows_published, status, uploaded_at)
            SELECT gen_random_uuid(), 'file-' || n || '.csv', lpad(n::text, 64, '0'), 'k', 1, 1, 1, 0, 0, 0, 1,
                   'published', timestamptz '2025-01-01' + (n / 3) * interval '1 second'
            FROM generate_series(1, 250) AS n"""))

    names = follow(importer, "/imports", r'id="older" href="([^"]+)"', r"<td>(file-\d+\.csv|july\.csv)</td>")

    assert sorted(names) == sorted([f"file-{n}.csv" for n in range(1, 251)] + ["july.csv"])
