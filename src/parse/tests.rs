//! The parser on crafted documents: every normalisation rule of the contract, every refusal,
//! and the memo giving what a fresh parse gives.

use super::reader::namespaces_follow_from_names;
use super::*;
use crate::model::{Document, Person, ServiceRecord};
use std::sync::Arc;

/// A port registry document parsed, as most of these tests read one.
fn parse_services(bytes: &[u8]) -> Result<Document<ServiceRecord>, ParseError> {
    parse_document::<ServiceRecord>(bytes)
}

fn doc(body: &str) -> String {
    format!(
        r#"<?xml version='1.0' encoding='UTF-8'?>
<registry xmlns="http://www.iana.org/assignments" id="service-names-port-numbers">
  <title>Service Name and Transport Protocol Port Number Registry</title>
  <updated>2024-01-02</updated>
  {body}
</registry>
"#
    )
}

fn one(body: &str) -> ServiceRecord {
    let registry = parse_services(doc(body).as_bytes()).unwrap();
    assert_eq!(registry.records.len(), 1);
    ServiceRecord::clone(&registry.records[0])
}

#[test]
fn reads_every_contract_field() {
    let record = one(r#"<record date="2012-07-31" updated="2025-02-13">
        <name>https</name><protocol>TCP</protocol>
        <assignee><xref type="person" data="IESG"/></assignee>
        <xref type="person" data="IETF_Chair"/>
        <description>http protocol over
           TLS/SSL</description>
        <number>443</number>
        <xref type="rfc" data="rfc6876"/>
        <xref type="draft" data="draft-zubov-snif-05" section="4.3">draft-zubov-snif-05, Section 4.3</xref>
        <xref type="text">n/a</xref>
        <sc>1145656131</sc>
        <unauthorized>Unauthorized use by x</unauthorized>
        <note>De-assigned on 2025-02-13, previously compressnet by <xref type="person" data="Bernie_Volz"/></note>
        <future-element>ignored</future-element>
      </record>"#);
    assert_eq!(record.name.as_deref(), Some("https"));
    assert_eq!(record.protocol.as_deref(), Some("tcp"));
    assert_eq!(record.port.as_deref(), Some("443"));
    assert_eq!(
        record.description.as_deref(),
        Some("http protocol over TLS/SSL")
    );
    assert_eq!(record.assignee, Some(vec!["IESG".to_string()]));
    assert_eq!(record.contact, Some(vec!["IETF_Chair".to_string()]));
    assert_eq!(
        record.references,
        Some(vec![
            "rfc:rfc6876".to_string(),
            "draft:draft-zubov-snif-05 section 4.3 (draft-zubov-snif-05, Section 4.3)".to_string(),
            "text:n/a".to_string(),
        ])
    );
    assert_eq!(record.registered.as_deref(), Some("2012-07-31"));
    assert_eq!(record.modified.as_deref(), Some("2025-02-13"));
    assert_eq!(record.service_code.as_deref(), Some("1145656131"));
    assert_eq!(
        record.unauthorized.as_deref(),
        Some("Unauthorized use by x")
    );
    assert_eq!(
        record.notes.as_deref(),
        Some("De-assigned on 2025-02-13, previously compressnet by [Bernie_Volz]")
    );
    assert_eq!(record.ordinal, 1);
}

#[test]
fn absent_and_empty_fields_are_null() {
    let record = one(
        "<record><name/><protocol>udp</protocol><number>4</number><description> </description></record>",
    );
    assert_eq!(record.name, None);
    assert_eq!(record.description, None);
    assert_eq!(record.assignee, None);
    assert_eq!(record.references, None);
    assert_eq!(record.registered, None);
}

/// Attributes are read by local name, the first of a repeated name wins, and attributes
/// that are not asked for change nothing.
#[test]
fn attributes_are_read_by_local_name_first_one_wins() {
    let record = one(
        r#"<record other="x" date="2001-01-01" updated="2002-02-02" date="2009-09-09">
        <name>a</name><protocol>tcp</protocol><number>1</number>
        <xref data="RFC1" type="rfc" type="draft" extra="y"/>
        <assignee><xref data="Ann" type="person" xmlns:p="urn:x" p:type="x"/></assignee>
        <contact><xref type="org" data="Bob"/></contact>
        </record>"#,
    );
    assert_eq!(record.registered.as_deref(), Some("2001-01-01"));
    assert_eq!(record.modified.as_deref(), Some("2002-02-02"));
    assert_eq!(record.references, Some(vec!["rfc:RFC1".to_string()]));
    assert_eq!(record.assignee, Some(vec!["Ann".to_string()]));
    assert_eq!(record.contact, None);
}

#[test]
fn paragraphs_breaks_and_entities_become_plain_text() {
    let record = one(
        "<record><name>x</name><note>\n  <paragraph>Defined TXT keys:</paragraph><paragraph>td: a &amp; b&#160;c</paragraph>line<br/>two\u{a0} </note></record>",
    );
    assert_eq!(
        record.notes.as_deref(),
        Some("Defined TXT keys: td: a & b\u{a0}c line two\u{a0}")
    );
}

#[test]
fn repeated_text_elements_are_joined() {
    let record = one(
        "<record><name>x</name><description>a</description><description>b</description></record>",
    );
    assert_eq!(record.description.as_deref(), Some("a, b"));
}

#[test]
fn repeated_keys_get_ordinals_in_document_order() {
    let registry = parse_services(
        doc(
            "<record><name>rdp</name><description>a</description></record>\
             <record><name>rdp</name><description>b</description></record>\
             <record><name>rdp</name><protocol>tcp</protocol><number>3389</number></record>",
        )
        .as_bytes(),
    )
    .unwrap();
    let ordinals: Vec<u32> = registry.records.iter().map(|r| r.ordinal).collect();
    assert_eq!(ordinals, vec![1, 2, 1]);
}

#[test]
fn reads_people_and_metadata() {
    let registry = parse_services(
        doc(r#"<record><name>x</name></record>
        <people><person id="Jon_Postel"><name>Jon Postel</name><org>ISI</org>
        <uri>mailto:postel&amp;isi.edu</uri><updated>2003-11</updated></person></people>"#)
        .as_bytes(),
    )
    .unwrap();
    assert_eq!(registry.updated.to_string(), "2024-01-02");
    assert_eq!(
        registry.title.as_deref(),
        Some("Service Name and Transport Protocol Port Number Registry")
    );
    assert_eq!(
        registry.people,
        vec![Arc::new(Person {
            id: "Jon_Postel".into(),
            name: Some("Jon Postel".into()),
            org: Some("ISI".into()),
            uri: Some("mailto:postel&isi.edu".into()),
            updated: Some("2003-11".into()),
        })]
    );
}

#[test]
fn elements_in_other_namespaces_are_ignored() {
    let record = one(r#"<record xmlns:x="urn:other"><name>a</name><x:name>b</x:name></record>"#);
    assert_eq!(record.name.as_deref(), Some("a"));
}

#[test]
fn refuses_what_is_not_one_complete_registry() {
    let complete = doc("<record><name>x</name><protocol>tcp</protocol><number>1</number></record>");
    assert_eq!(parse_services(b""), Err(ParseError::Empty));
    assert_eq!(parse_services(b"  \n"), Err(ParseError::Empty));
    assert_eq!(
        parse_services(b"<!DOCTYPE html><html><body>503</body></html>"),
        Err(ParseError::Html)
    );
    assert!(matches!(
        parse_services(b"just some text"),
        Err(ParseError::Malformed { .. })
    ));
    assert!(matches!(
        parse_services(b"{\"json\": true}"),
        Err(ParseError::Malformed { .. })
    ));
    assert_eq!(
        parse_services(
            br#"<registry xmlns="http://www.iana.org/assignments" id="protocol-numbers"><updated>2024-01-01</updated></registry>"#
        ),
        Err(ParseError::WrongRegistry {
            id: "protocol-numbers".into(),
            expected: Registry::Services,
        })
    );
    assert_eq!(
        parse_services(b"<feed><entry/></feed>"),
        Err(ParseError::NotARegistry {
            root: "feed".into()
        })
    );
    assert_eq!(
        parse_services(doc("").as_bytes()),
        Err(ParseError::NoRecords)
    );
    let no_date = complete.replace("<updated>2024-01-02</updated>", "");
    assert_eq!(
        parse_services(no_date.as_bytes()),
        Err(ParseError::NoUpdatedDate)
    );
    let bad_date = complete.replace("2024-01-02", "2024-13-45");
    assert!(matches!(
        parse_services(bad_date.as_bytes()),
        Err(ParseError::BadUpdatedDate(_))
    ));
    assert!(parse_services(complete.as_bytes()).is_ok());
}

#[test]
fn a_document_cut_anywhere_is_refused() {
    let complete = doc(
        r#"<record date="2001-01"><name>x</name><protocol>tcp</protocol><number>1</number>
        <note>a &amp; <xref type="person" data="p"/></note></record>"#,
    );
    let end = complete.trim_end().len();
    for cut in 0..end {
        let result = parse_services(&complete.as_bytes()[..cut]);
        assert!(result.is_err(), "a cut at byte {cut} was accepted");
    }
}

mod memo {
    use super::super::{ParseMemo, parse_with_memo};
    use super::parse_services;
    use crate::model::ServiceRecord;

    const HEAD: &str = r#"<?xml version='1.0' encoding='UTF-8'?>
<registry xmlns="http://www.iana.org/assignments" id="service-names-port-numbers">
  <title>Service Name and Transport Protocol Port Number Registry</title>
  <updated>2024-01-02</updated>
"#;

    fn doc(head: &str, body: &str) -> Vec<u8> {
        format!("{head}{body}\n  <people>\n    <person id=\"A\"><name>A</name></person>\n    <person id=\"\"><name>nobody</name></person>\n  </people>\n</registry>\n").into_bytes()
    }

    const ONE: &str = "<record date=\"2001-01\"><name>one</name><protocol>tcp</protocol><number>1</number><description>One &amp; <xref type=\"rfc\" data=\"rfc1\"/></description></record>\n";
    const TWO: &str = "<record><name>two</name><protocol>udp</protocol><number>2</number><note>a<br/>b</note></record>\n";

    /// Parses `docs` in order with one memo; each result must equal a fresh parse.
    fn same_as_fresh(docs: &[Vec<u8>]) {
        let mut memo = ParseMemo::<ServiceRecord>::default();
        for (i, bytes) in docs.iter().enumerate() {
            let fresh = parse_services(bytes);
            let memoised = parse_with_memo(bytes, &mut memo);
            assert_eq!(memoised, fresh, "document {i}");
        }
    }

    #[test]
    fn reused_elements_give_what_a_fresh_parse_gives() {
        let changed = TWO.replace("udp", "tcp");
        same_as_fresh(&[
            doc(HEAD, &[ONE, TWO].concat()),
            doc(HEAD, &[ONE, TWO, ONE].concat()),
            doc(HEAD, &[TWO, ONE, &changed].concat()),
            doc(HEAD, &[ONE, ONE, ONE].concat()),
        ]);
    }

    #[test]
    fn an_element_hidden_in_a_comment_or_cut_is_not_reused() {
        let whole = doc(HEAD, &[ONE, TWO].concat());
        let in_comment = doc(HEAD, &["<!-- ", ONE, " -->", TWO].concat());
        let mut cut = whole.clone();
        cut.truncate(HEAD.len() + ONE.len() / 2);
        let mut cut_second = whole.clone();
        cut_second.truncate(HEAD.len() + ONE.len() + TWO.len() - 3);
        same_as_fresh(&[
            whole.clone(),
            in_comment,
            whole.clone(),
            cut,
            whole.clone(),
            cut_second,
        ]);
    }

    #[test]
    fn a_root_binding_prefixes_turns_reuse_off() {
        let prefixed = HEAD.replace(
            "id=\"service-names-port-numbers\"",
            "xmlns:i=\"http://www.iana.org/assignments\" id=\"service-names-port-numbers\"",
        );
        let first = doc(&prefixed, &[ONE, TWO].concat());
        let second = doc(
            &prefixed,
            &[
                ONE,
                TWO.replace("<note>", "<i:note>")
                    .replace("</note>", "</i:note>")
                    .as_str(),
            ]
            .concat(),
        );
        same_as_fresh(&[first.clone(), second.clone(), doc(HEAD, ONE), second]);
    }

    /// A run of unchanged elements is taken a comparison at a time: it stops where the
    /// document changes (an element, the white space between two, a comment) and never runs
    /// from the records into the people, whatever bytes follow.
    #[test]
    fn runs_of_unchanged_elements_stop_where_the_document_changes() {
        let three = TWO.replace("two", "three");
        let records = [ONE, TWO, &three, ONE, TWO].concat();
        let base = doc(HEAD, &records);
        let changed_middle = doc(
            HEAD,
            &[ONE, TWO, &three.replace("udp", "tcp"), ONE, TWO].concat(),
        );
        let more_space = doc(HEAD, &[ONE, "\n\n", TWO, &three, ONE, TWO].concat());
        let commented = doc(HEAD, &[ONE, TWO, "<!-- x -->", &three, ONE, TWO].concat());
        let reordered = doc(HEAD, &[TWO, ONE, &three, TWO, ONE].concat());
        // The last record followed by the people, or by more records, or the end of the root.
        let then_records = doc(HEAD, &[&records, ONE, TWO].concat());
        let people_first = format!("{HEAD}  <people>\n    <person id=\"A\"><name>A</name></person>\n  </people>\n{records}</registry>\n").into_bytes();
        same_as_fresh(&[
            base.clone(),
            changed_middle,
            base.clone(),
            more_space,
            base.clone(),
            commented,
            base.clone(),
            reordered,
            base.clone(),
            then_records.clone(),
            base.clone(),
            people_first.clone(),
            then_records,
            people_first,
            base,
        ]);
    }

    /// Documents made of shuffled, repeated, respaced and commented records, with the people
    /// anywhere: parsed one after the other with one memo, each gives what a fresh parse gives.
    #[test]
    fn any_sequence_of_documents_parses_as_fresh_with_a_memo() {
        use proptest::prelude::*;
        let three = TWO.replace("two", "three");
        let changed = ONE.replace("tcp", "udp");
        let parts: Vec<String> = vec![
            ONE.into(),
            TWO.into(),
            three,
            changed,
            "\n".into(),
            "  ".into(),
            "<!-- x -->".into(),
            "<people><person id=\"B\"><name>B</name></person></people>".into(),
        ];
        let document = proptest::collection::vec(0..parts.len(), 1..12);
        proptest!(ProptestConfig::with_cases(200), |(docs in proptest::collection::vec(document, 2..5))| {
            let docs: Vec<Vec<u8>> = docs
                .iter()
                .map(|picks| {
                    let body: String = picks.iter().map(|&i| parts[i].as_str()).collect();
                    doc(HEAD, &body)
                })
                .collect();
            let mut memo = ParseMemo::<ServiceRecord>::default();
            for bytes in &docs {
                prop_assert_eq!(parse_with_memo(bytes, &mut memo), parse_services(bytes));
            }
        });
    }

    #[test]
    fn a_malformed_element_with_a_known_start_is_refused() {
        let good = doc(HEAD, &[ONE, TWO].concat());
        let bad = doc(HEAD, &[ONE, &TWO.replace("</note>", "</nope>")].concat());
        same_as_fresh(&[good.clone(), bad.clone(), good]);
        assert!(parse_services(&bad).is_err());
    }
}

/// A repeated key is told apart by its ordinal, however far apart the repeats are.
#[test]
fn repeated_keys_count_up_their_ordinal() {
    let mut body = String::new();
    for i in 0..2500 {
        // Every 700th record repeats the key of the one before: ordinal 2.
        let port = if i % 700 == 1 { i - 1 } else { i };
        body.push_str(&format!(
            "<record><name>s{port}</name><protocol>tcp</protocol><number>{port}</number></record>\n"
        ));
    }
    let registry = parse_services(doc(&body).as_bytes()).unwrap();
    let ordinals: Vec<u32> = registry.records.iter().map(|r| r.ordinal).collect();
    assert_eq!(ordinals.iter().filter(|&&o| o == 2).count(), 4);
    assert_eq!(registry.records[1].ordinal, 2);
    assert_eq!(registry.records[701].ordinal, 2);
}

/// Where the names alone tell every element's namespace, the parse skips namespace
/// resolution; everywhere, it must read exactly what a namespace-aware reading does.
#[test]
fn reading_without_namespace_resolution_changes_nothing() {
    let root =
        r#"<registry xmlns="http://www.iana.org/assignments" id="service-names-port-numbers">"#;
    let head = "<?xml version='1.0'?>\n<!-- xmlns in a comment -->\n";
    let body = "<title>T</title><updated>2024-01-02</updated>\
        <record xml:lang=\"en\"><name>a</name><protocol>tcp</protocol><number>1</number></record>\
        <x:record><name>prefixed</name><protocol>tcp</protocol><number>2</number></x:record>\
        <record><x:name>b</x:name><name>c</name><protocol>udp</protocol><number>3</number></record>";
    let documents = [
        // As every real version: the plain reading is taken.
        format!("{root}{body}</registry>"),
        // No namespace at all.
        format!(r#"<registry id="service-names-port-numbers">{body}</registry>"#),
        // Another default namespace on the root: not a registry either way.
        format!(r#"<registry xmlns="urn:other" id="service-names-port-numbers">{body}</registry>"#),
        // The IANA namespace under a prefix, on the root or inside.
        format!(
            r#"<r:registry xmlns:r="http://www.iana.org/assignments" id="service-names-port-numbers">{body}</r:registry>"#
        ),
        format!(
            r#"{root}<record xmlns:x="http://www.iana.org/assignments">{}</record>{body}</registry>"#,
            "<x:name>n</x:name><x:protocol>tcp</x:protocol><number>9</number>"
        ),
        // The default namespace changed or undeclared inside.
        format!(
            r#"{root}{body}<record xmlns="urn:other"><name>z</name></record><record xmlns=""><name>e</name><protocol>tcp</protocol><number>5</number></record></registry>"#
        ),
        // "xmlns" in text, and in a comment before the root.
        format!(
            "{head}{root}{body}<record><name>xmlns</name><protocol>tcp</protocol><number>4</number></record></registry>"
        ),
        // Not well-formed, or cut short.
        format!("{root}{body}"),
        format!("{root}<record><name>a</name></recrd></registry>"),
    ];
    for document in &documents {
        let bytes = document.as_bytes();
        assert_eq!(
            parse_services(bytes),
            parse_namespace_aware::<ServiceRecord>(bytes),
            "{document}"
        );
    }
    assert!(namespaces_follow_from_names(documents[0].as_bytes()));
    assert!(namespaces_follow_from_names(documents[1].as_bytes()));
    for i in [2, 3, 4, 5, 6] {
        assert!(
            !namespaces_follow_from_names(documents[i].as_bytes()),
            "{}",
            documents[i]
        );
    }
}
