"""What Vylux changes in Shaka Packager's MPD: stable ids, and the DASH-IF ClearKey
descriptor of an encrypted one."""

from __future__ import annotations

import pytest

from vylux_core.media.dash_manifest import (
    CLEARKEY_SCHEME_ID,
    COMMON_PSSH_SCHEME_ID,
    NoProtectionDescriptor,
    number_in_document_order,
    signal_clearkey,
)

MP4 = (
    '<ContentProtection value="cbcs" schemeIdUri="urn:mpeg:dash:mp4protection:2011"'
    ' cenc:default_KID="00112233-4455-6677-8899-aabbccddeeff"/>'
)
# As Shaka Packager writes it.
COMMON = (
    f'<ContentProtection schemeIdUri="{COMMON_PSSH_SCHEME_ID}">\n'
    "        <cenc:pssh>AAAA</cenc:pssh>\n"
    "      </ContentProtection>"
)
CLEARKEY = f'<ContentProtection schemeIdUri="{CLEARKEY_SCHEME_ID}" value="ClearKey1.0"/>'


def _mpd(*adaptation_sets: str) -> str:
    return '<MPD>\n  <Period id="0">\n' + "".join(adaptation_sets) + "  </Period>\n</MPD>\n"


def _set(*lines: str) -> str:
    body = "".join(f"      {line}\n" for line in lines)
    return f'    <AdaptationSet id="0">\n{body}    </AdaptationSet>\n'


def test_clearkey_descriptor_replaces_the_common_pssh_one() -> None:
    mpd = _mpd(_set(MP4, COMMON), _set(MP4, COMMON, "<Representation/>"))

    want = _mpd(_set(MP4, CLEARKEY), _set(MP4, CLEARKEY, "<Representation/>"))
    assert signal_clearkey(mpd) == want


def test_a_self_closing_common_descriptor_goes_too() -> None:
    common = f'<ContentProtection schemeIdUri="{COMMON_PSSH_SCHEME_ID}"/>'

    assert signal_clearkey(_mpd(_set(MP4, common))) == _mpd(_set(MP4, CLEARKEY))


def test_signalling_twice_changes_nothing() -> None:
    once = signal_clearkey(_mpd(_set(MP4, COMMON)))

    assert signal_clearkey(once) == once


def test_a_clear_manifest_is_refused() -> None:
    with pytest.raises(NoProtectionDescriptor, match="no mp4protection ContentProtection"):
        signal_clearkey(_mpd(_set("<Representation/>")))


def test_ids_are_counted_in_document_order_whatever_the_packager_chose() -> None:
    # Two packager runs over the same encodes: the threads finished in another order.
    def packaged(set_ids: tuple[int, int, int], rep_ids: tuple[int, ...]) -> str:
        a, b, c = set_ids
        return (
            f'<MPD>\n  <Period id="0">\n    <AdaptationSet id="{a}" contentType="audio">\n'
            f'      <Representation id="{rep_ids[0]}" bandwidth="1"/>\n    </AdaptationSet>\n'
            f'    <AdaptationSet id="{b}" contentType="video">\n'
            f'      <Representation id="{rep_ids[1]}" bandwidth="2"/>\n'
            f'      <Representation id="{rep_ids[2]}" bandwidth="3"/>\n    </AdaptationSet>\n'
            f'    <AdaptationSet id="{c}" contentType="video">\n'
            f'      <Representation id="{rep_ids[3]}" bandwidth="4"/>\n    </AdaptationSet>\n'
            "  </Period>\n</MPD>\n"
        )

    first = number_in_document_order(packaged((2, 0, 1), (0, 1, 2, 3)))
    second = number_in_document_order(packaged((2, 1, 0), (3, 1, 2, 0)))

    assert first == second == packaged((0, 1, 2), (0, 1, 2, 3))
    assert '<Period id="0">' in first  # other ids are left alone
    assert number_in_document_order(first) == first
