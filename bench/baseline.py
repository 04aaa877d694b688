"""The plain baseline: ElementTree + sqlite3 loading one registry version (one table, one row
per record, in one transaction), as a short script would."""
import sqlite3
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.iana.org/assignments}"
path, db = sys.argv[1], sys.argv[2]
root = ET.parse(path).getroot()
conn = sqlite3.connect(db)
conn.execute("CREATE TABLE record (name, protocol, port, description, registered, modified, note)")
rows = []
for rec in root.iter(NS + "record"):
    def text(tag):
        el = rec.find(NS + tag)
        return " ".join("".join(el.itertext()).split()) if el is not None else None
    rows.append((text("name"), text("protocol"), text("number"), text("description"),
                 rec.get("date"), rec.get("updated"), text("note")))
with conn:
    conn.executemany("INSERT INTO record VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
conn.close()
