"""Every malformed content case is reported as path:line: message, and refused whole."""

from __future__ import annotations

from elearn.content.loader import load_content
from tests.domain.conftest import Tree


def test_valid_tree_loads_everything(tree: Tree) -> None:
    content = tree.load()
    assert content.problems == []
    assert list(content.courses) == ["demo-course"]
    course = content.courses["demo-course"]
    assert [m.id for m in course.modules] == ["01-intro", "02-more"]
    assert course.modules[0].title == {"nb": "Innledning", "en": "Introduction"}
    bank = content.banks["demo-bank"]
    assert [i.spec.id for i in bank.items] == ["q-1", "q-2"]
    assert [e.spec.id for e in bank.exams] == ["demo-exam"]


def test_yaml_syntax_error_names_file_and_line(tree: Tree) -> None:
    tree.replace(
        "courses/demo-course/course.yaml", "estimated_minutes: 20", "estimated_minutes: [20"
    )
    messages = tree.messages()
    assert messages == [
        "courses/demo-course/course.yaml:7: YAML: expected ',' or ']', but got ':' "
        "(while parsing a flow sequence at line 6)"
    ]
    assert "demo-course" not in tree.load().courses


def test_unknown_key_is_an_error_on_its_line(tree: Tree) -> None:
    tree.replace(
        "courses/demo-course/course.yaml",
        "estimated_minutes: 20",
        "estimated_minutes: 20\ncolour: red",
    )
    assert tree.messages() == ["courses/demo-course/course.yaml:7: unknown key 'colour'"]


def test_duplicate_yaml_key_is_an_error(tree: Tree) -> None:
    tree.replace(
        "courses/demo-course/course.yaml",
        "estimated_minutes: 20",
        "estimated_minutes: 20\nestimated_minutes: 30",
    )
    assert tree.messages() == [
        "courses/demo-course/course.yaml:7: YAML: duplicate key 'estimated_minutes'"
    ]


def test_missing_language_in_course_title(tree: Tree) -> None:
    tree.replace(
        "courses/demo-course/course.yaml",
        'title: {nb: "Demokurs", en: "Demo course"}',
        'title: {nb: "Demokurs"}',
    )
    assert tree.messages() == ["courses/demo-course/course.yaml:4: missing language 'en'"]


def test_missing_module_language_file(tree: Tree) -> None:
    (tree.root / "courses/demo-course/modules/02-more.en.md").unlink()
    assert tree.messages() == [
        "courses/demo-course/course.yaml:13: module '02-more' has no 'en' file (modules/02-more.en.md)"
    ]


def test_module_file_not_listed_in_course(tree: Tree) -> None:
    tree.write(
        "courses/demo-course/modules/03-extra.nb.md", "---\ntitle: X\nminutes: 1\n---\nBody\n"
    )
    assert tree.messages() == [
        "courses/demo-course/modules/03-extra.nb.md:1: module '03-extra' is not listed in courses/demo-course/course.yaml"
    ]


def test_front_matter_errors_have_file_lines(tree: Tree) -> None:
    tree.replace("courses/demo-course/modules/01-intro.en.md", "minutes: 10", "minutes: ten")
    messages = tree.messages()
    assert messages[0] == (
        "courses/demo-course/modules/01-intro.en.md:3: minutes: Input should be a valid integer, "
        "unable to parse string as an integer"
    )


def test_module_without_front_matter(tree: Tree) -> None:
    tree.write("courses/demo-course/modules/01-intro.en.md", "Just a body\n")
    assert tree.messages() == [
        "courses/demo-course/modules/01-intro.en.md:1: missing front matter: start the file with '---'"
    ]


def test_unknown_outcome_in_module(tree: Tree) -> None:
    tree.replace(
        "courses/demo-course/modules/01-intro.nb.md", "outcomes: [know-goals]", "outcomes: [nope]"
    )
    messages = tree.messages()
    assert "courses/demo-course/modules/01-intro.nb.md:4: unknown outcome 'nope'" in messages


def test_level_one_heading_in_body_is_refused(tree: Tree) -> None:
    tree.replace("courses/demo-course/modules/01-intro.nb.md", "## Del", "# Del")
    assert tree.messages() == [
        "courses/demo-course/modules/01-intro.nb.md:9: a '#' heading in the body: start at '##' "
        "(the module title is the page's heading)"
    ]


def test_reflection_counts_must_match_across_languages(tree: Tree) -> None:
    tree.replace(
        "courses/demo-course/modules/01-intro.en.md", "::: reflection\nHva var nytt?\n:::\n", ""
    )
    messages = tree.messages()
    assert (
        "courses/demo-course/modules/01-intro.en.md:1: 0 reflection prompt(s); every language of a module needs the same number"
        in messages
    )


def test_empty_reflection_is_refused(tree: Tree) -> None:
    tree.replace("courses/demo-course/modules/01-intro.nb.md", "Hva var nytt?\n", "")
    assert (
        "courses/demo-course/modules/01-intro.nb.md:11: empty reflection prompt" in tree.messages()
    )


def test_course_names_an_unknown_exam(tree: Tree) -> None:
    tree.replace("courses/demo-course/course.yaml", "exam: demo-exam", "exam: nope")
    assert tree.messages() == ["courses/demo-course/course.yaml:7: unknown exam 'nope'"]


def test_key_pointing_at_no_option(tree: Tree) -> None:
    tree.replace("question_banks/demo-bank/items/sdgs.yaml", "key: b", "key: z")
    messages = tree.messages()
    assert "question_banks/demo-bank/items/sdgs.yaml:5: the key 'z' is not an option" in messages
    # The file is refused whole, so the exam's pool is empty.
    assert tree.load().banks["demo-bank"].items == []


def test_item_language_missing(tree: Tree) -> None:
    tree.replace(
        "question_banks/demo-bank/items/sdgs.yaml",
        '      en: {stem: "There are 17 goals."}\n',
        "",
    )
    assert "question_banks/demo-bank/items/sdgs.yaml:19: missing language 'en'" in tree.messages()


def test_duplicate_item_id(tree: Tree) -> None:
    tree.replace("question_banks/demo-bank/items/sdgs.yaml", "id: q-2", "id: q-1")
    assert (
        "question_banks/demo-bank/items/sdgs.yaml:14: duplicate item id 'q-1' "
        "(also in question_banks/demo-bank/items/sdgs.yaml)"
    ) in tree.messages()


def test_duplicate_item_id_across_files_refuses_the_second_file(tree: Tree) -> None:
    tree.write(
        "question_banks/demo-bank/items/zz.yaml",
        (tree.root / "question_banks/demo-bank/items/sdgs.yaml").read_text(),
    )
    content = tree.load()
    assert next(str(p) for p in content.problems if "zz.yaml" in p.path).endswith(
        "duplicate item id 'q-1' (also in question_banks/demo-bank/items/sdgs.yaml)"
    )
    assert content.banks["demo-bank"].refused_item_files == [
        "question_banks/demo-bank/items/zz.yaml"
    ]
    assert len(content.banks["demo-bank"].items) == 2


def test_options_must_agree_across_languages(tree: Tree) -> None:
    tree.replace(
        "question_banks/demo-bank/items/sdgs.yaml",
        'options: {a: "17", b: "169"}\n      en:',
        'options: {a: "17", c: "169"}\n      en:',
    )
    messages = tree.messages()
    assert any(
        "sdgs.yaml:13: options ['a', 'b'] differ from the first language's ['a', 'c']" in m
        for m in messages
    )


def test_unknown_item_type(tree: Tree) -> None:
    tree.replace("question_banks/demo-bank/items/sdgs.yaml", "type: true_false", "type: essay")
    messages = tree.messages()
    assert any(
        m.startswith(
            "question_banks/demo-bank/items/sdgs.yaml:16: unknown item type 'essay' (known: "
        )
        for m in messages
    )


def test_wrong_key_shape_for_true_false(tree: Tree) -> None:
    tree.replace("question_banks/demo-bank/items/sdgs.yaml", "key: true", "key: yes-please")
    assert (
        "question_banks/demo-bank/items/sdgs.yaml:17: the key must be true or false"
        in tree.messages()
    )


def test_unknown_topic(tree: Tree) -> None:
    tree.replace(
        "question_banks/demo-bank/items/sdgs.yaml",
        "topic: sdgs\n    type: true_false",
        "topic: law\n    type: true_false",
    )
    assert "question_banks/demo-bank/items/sdgs.yaml:15: unknown topic 'law'" in tree.messages()


def test_blueprint_asking_more_than_the_bank_holds(tree: Tree) -> None:
    tree.replace("question_banks/demo-bank/exams/demo-exam.yaml", "items: 2", "items: 3")
    assert tree.messages() == [
        "question_banks/demo-bank/exams/demo-exam.yaml:7: asks for 3 items of topic 'sdgs' but the bank's main pool holds 2"
    ]
    assert tree.load().banks["demo-bank"].exams == []


def test_pass_rule_for_topic_not_drawn(tree: Tree) -> None:
    tree.replace(
        "question_banks/demo-bank/exams/demo-exam.yaml",
        "topics: {sdgs: 80}",
        "topics: {sdgs: 80, law: 80}",
    )
    assert tree.messages() == [
        "question_banks/demo-bank/exams/demo-exam.yaml:10: pass rule for topic 'law' that the blueprint does not draw"
    ]


def test_exam_with_bad_review_policy(tree: Tree) -> None:
    tree.write(
        "question_banks/demo-bank/exams/other.yaml",
        (tree.root / "question_banks/demo-bank/exams/demo-exam.yaml")
        .read_text()
        .replace("id: demo-exam", "id: other")
        + "review: everything\n",
    )
    messages = tree.messages()
    assert messages == [
        "question_banks/demo-bank/exams/other.yaml:11: review: Input should be 'topics', 'correctness' or 'answers'"
    ]


def test_duplicate_exam_id(tree: Tree) -> None:
    tree.write(
        "question_banks/demo-bank/exams/zz.yaml",
        (tree.root / "question_banks/demo-bank/exams/demo-exam.yaml").read_text(),
    )
    assert tree.messages() == [
        "question_banks/demo-bank/exams/zz.yaml:1: duplicate exam id 'demo-exam' "
        "(also in question_banks/demo-bank/exams/demo-exam.yaml)"
    ]


def test_not_utf8_and_not_a_mapping(tree: Tree) -> None:
    (tree.root / "question_banks/demo-bank/items/latin1.yaml").write_bytes(
        "items: [æ]".encode("latin-1")
    )
    (tree.root / "question_banks/demo-bank/items/list.yaml").write_text("- just\n- a list\n")
    messages = tree.messages()
    assert any(
        m.startswith("question_banks/demo-bank/items/latin1.yaml:1: not UTF-8 text")
        for m in messages
    )
    assert (
        "question_banks/demo-bank/items/list.yaml:1: expected a mapping of keys to values"
        in messages
    )


def test_every_problem_is_reported_not_just_the_first(tree: Tree) -> None:
    tree.replace(
        "courses/demo-course/course.yaml", "estimated_minutes: 20", "estimated_minutes: -1\nfoo: 1"
    )
    tree.replace("question_banks/demo-bank/items/sdgs.yaml", "key: b", "key: z")
    messages = tree.messages()
    # Both course problems, the item key, and the exam that now lacks items: all at once.
    assert messages == [
        "courses/demo-course/course.yaml:6: estimated_minutes: Input should be greater than 0",
        "courses/demo-course/course.yaml:7: unknown key 'foo'",
        "question_banks/demo-bank/exams/demo-exam.yaml:7: asks for 2 items of topic 'sdgs' but the bank's main pool holds 0",
        "question_banks/demo-bank/items/sdgs.yaml:5: the key 'z' is not an option",
    ]


def test_shipped_content_passes() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    content = load_content(root / "courses", root / "question_banks", root)
    assert [str(p) for p in content.problems] == []
    assert content.courses and content.banks


def _with_practice(tree: Tree) -> None:
    tree.write(
        "question_banks/practice/bank.yaml",
        "id: practice\nlanguages: [nb, en]\n"
        "title: {nb: Øving, en: Practice}\ntopics:\n  - {id: m1, title: {nb: M1, en: M1}}\n",
    )
    tree.write(  # practice items of their own: copies of the exam's items would be refused
        "question_banks/practice/items/m1.yaml",
        """\
        items:
          - id: q-1
            topic: m1
            type: single_choice
            key: a
            source: "A/RES/70/1"
            text:
              nb:
                stem: "Hvilket år ble Agenda 2030 vedtatt av FNs generalforsamling?"
                options: {a: "2015", b: "2000"}
              en:
                stem: "In which year did the UN General Assembly adopt the 2030 Agenda?"
                options: {a: "2015", b: "2000"}
          - id: q-2
            topic: m1
            type: true_false
            key: false
            source: "A/RES/70/1"
            text:
              nb: {stem: "Bærekraftsmålene gjelder bare for utviklingsland."}
              en: {stem: "The Sustainable Development Goals apply to developing countries only."}
        """,
    )
    tree.replace(
        "courses/demo-course/course.yaml",
        "exam: demo-exam",
        "exam: demo-exam\npractice_bank: practice",
    )
    for lang in ("nb", "en"):
        tree.replace(
            f"courses/demo-course/modules/01-intro.{lang}.md",
            "outcomes: [know-goals]",
            "outcomes: [know-goals]\ncheck: [q-1, q-2]",
        )


def test_knowledge_check_items_come_from_the_practice_bank(tree: Tree) -> None:
    _with_practice(tree)
    content = tree.load()
    assert content.problems == []
    assert content.courses["demo-course"].modules[0].check == ["q-1", "q-2"]


def test_unknown_practice_item(tree: Tree) -> None:
    _with_practice(tree)
    tree.replace(
        "courses/demo-course/modules/01-intro.nb.md", "check: [q-1, q-2]", "check: [q-1, q-9]"
    )
    tree.replace(
        "courses/demo-course/modules/01-intro.en.md", "check: [q-1, q-2]", "check: [q-1, q-9]"
    )
    assert (
        "courses/demo-course/modules/01-intro.nb.md:5: unknown practice item 'q-9'"
        in tree.messages()
    )


def test_practice_bank_may_not_hold_exams(tree: Tree) -> None:
    _with_practice(tree)
    tree.write(
        "question_banks/practice/exams/e.yaml",
        (tree.root / "question_banks/demo-bank/exams/demo-exam.yaml")
        .read_text()
        .replace("id: demo-exam", "id: practice-exam")
        .replace("topic: sdgs", "topic: m1")
        .replace("topics: {sdgs: 80}", "topics: {m1: 80}"),
    )
    messages = tree.messages()
    assert any("practice items are kept apart from certification pools" in m for m in messages), (
        messages
    )


def test_check_needs_a_practice_bank(tree: Tree) -> None:
    for lang in ("nb", "en"):
        tree.replace(
            f"courses/demo-course/modules/01-intro.{lang}.md",
            "outcomes: [know-goals]",
            "outcomes: [know-goals]\ncheck: [q-1]",
        )
    assert (
        "courses/demo-course/modules/01-intro.nb.md:5: a knowledge check needs practice_bank in course.yaml"
        in tree.messages()
    )


def test_a_bidi_override_in_a_course_title_refuses_the_file_by_line(tree: Tree) -> None:
    tree.replace("courses/demo-course/course.yaml", '"Demo course"', '"Demo \u202eesruoc"')
    assert tree.messages() == [
        "courses/demo-course/course.yaml:4: contains a character that reverses the direction "
        "of text, which is not allowed (U+202E)"
    ]
    assert "demo-course" not in tree.load().courses


def test_an_escaped_control_character_in_yaml_is_refused_by_line(tree: Tree) -> None:
    tree.replace("courses/demo-course/course.yaml", '"Demo course"', '"Demo\\u0000course"')
    assert tree.messages() == [
        "courses/demo-course/course.yaml:4: contains a control character, which is not allowed "
        "(U+0000)"
    ]


def test_a_control_character_in_a_module_body_is_refused_by_line(tree: Tree) -> None:
    tree.replace("courses/demo-course/modules/01-intro.nb.md", "## Del", "## Del\x1b[31m")
    assert tree.messages() == [
        "courses/demo-course/modules/01-intro.nb.md:9: contains a control character, which is "
        "not allowed (U+001B)"
    ]
