"""app.media.hls: parsing master and media playlists, rewriting every URI, resolving paths."""

from __future__ import annotations

import pytest

from app.media import hls

MASTER = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",DEFAULT=YES,URI="audio/en.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=985600,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",AUDIO="aud"
360p/index.m3u8

#EXT-X-STREAM-INF:BANDWIDTH=3220800,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2"
720p/index.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,URI="720p/iframes.m3u8"
"""

MEDIA_TS = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:6
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:6.000000,
seg_00000.ts
#EXTINF:6.000000,
seg_00001.ts
#EXTINF:2.480000,
seg_00002.ts
#EXT-X-ENDLIST
"""

MEDIA_FMP4 = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:6
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-KEY:METHOD=AES-128,URI="../keys/k1.bin",IV=0x00000000000000000000000000000001
#EXT-X-MAP:URI="init.mp4"
#EXTINF:6.006,
#EXT-X-BYTERANGE:1000@0
seg_1.m4s?v=2
#EXT-X-KEY:METHOD=NONE
#EXTINF:4.2,title
https://cdn.example.com/seg_2.m4s
#EXT-X-ENDLIST
"""


def _sign(uri: str) -> str:
    return f"https://media.test/{uri}?sig=abc"


def test_parse_master_variants_in_order() -> None:
    variants = hls.parse_master(MASTER)
    assert [v.uri for v in variants] == ["360p/index.m3u8", "720p/index.m3u8"]
    assert [v.bandwidth for v in variants] == [985600, 3220800]
    assert [v.resolution for v in variants] == [(640, 360), (1280, 720)]
    assert variants[0].codecs == "avc1.64001e,mp4a.40.2"  # the comma inside quotes stays


def test_parse_media_segments_and_header() -> None:
    media = hls.parse_media(MEDIA_TS)
    assert [s.uri for s in media.segments] == ["seg_00000.ts", "seg_00001.ts", "seg_00002.ts"]
    assert media.duration == pytest.approx(14.48)
    assert (media.target_duration, media.playlist_type, media.ended) == (6, "VOD", True)
    assert media.map_uri is None and media.key_uris == []


def test_parse_media_fmp4_with_map_and_key() -> None:
    media = hls.parse_media(MEDIA_FMP4)
    assert media.map_uri == "init.mp4"
    assert media.key_uris == ["../keys/k1.bin"]
    assert [s.uri for s in media.segments] == ["seg_1.m4s?v=2", "https://cdn.example.com/seg_2.m4s"]
    assert [s.duration for s in media.segments] == [6.006, 4.2]


@pytest.mark.parametrize(
    ("text", "parser"),
    [
        ("not a playlist\nseg.ts\n", hls.parse_media),
        ("", hls.parse_master),
        ("#EXTM3U\n#EXTINF:6,\n", hls.parse_media),  # no target duration
        ("#EXTM3U\n#EXT-X-TARGETDURATION:6\nseg.ts\n", hls.parse_media),  # segment without EXTINF
        (MEDIA_TS, hls.parse_master),  # a media playlist is not a master
    ],
)
def test_parse_refuses_what_is_not_such_a_playlist(text: str, parser: object) -> None:
    with pytest.raises(hls.PlaylistError):
        parser(text)  # type: ignore[operator]


def test_rewrite_master_signs_variants_and_uri_attributes_only() -> None:
    seen: list[str] = []
    out = hls.rewrite(MASTER, lambda uri: seen.append(uri) or _sign(uri))
    assert seen == ["audio/en.m3u8", "360p/index.m3u8", "720p/index.m3u8", "720p/iframes.m3u8"]
    lines = out.splitlines()
    assert lines[3] == (
        '#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",DEFAULT=YES,'
        'URI="https://media.test/audio/en.m3u8?sig=abc"'
    )
    assert lines[5] == "https://media.test/360p/index.m3u8?sig=abc"
    assert lines[4] == MASTER.splitlines()[4]  # STREAM-INF tags untouched
    assert lines[6] == ""  # blank lines kept
    # Parsing the rewritten master gives the same variants with the new URIs.
    assert [v.bandwidth for v in hls.parse_master(out)] == [985600, 3220800]


def test_rewrite_media_signs_segments_map_and_key_and_keeps_absolute_uris() -> None:
    seen: list[str] = []
    out = hls.rewrite(MEDIA_FMP4, lambda uri: seen.append(uri) or _sign(uri))
    assert seen == ["../keys/k1.bin", "init.mp4", "seg_1.m4s?v=2"]
    assert '#EXT-X-MAP:URI="https://media.test/init.mp4?sig=abc"' in out
    assert 'URI="https://media.test/../keys/k1.bin?sig=abc",IV=0x0000' in out
    assert "https://cdn.example.com/seg_2.m4s\n" in out  # not ours: left alone
    assert "#EXT-X-BYTERANGE:1000@0\n" in out and "#EXTINF:4.2,title\n" in out
    media = hls.parse_media(out)
    assert [s.duration for s in media.segments] == [6.006, 4.2]
    assert len(out.splitlines()) == len(MEDIA_FMP4.splitlines())


def test_rewrite_keeps_tags_and_crlf_line_endings() -> None:
    crlf = MEDIA_TS.replace("\n", "\r\n")
    out = hls.rewrite(crlf, _sign)
    assert out.count("\r\n") == crlf.count("\r\n")
    assert out.replace("https://media.test/", "").replace("?sig=abc", "") == crlf
    tags = [ln for ln in crlf.splitlines() if ln.startswith("#")]
    assert [ln for ln in out.splitlines() if ln.startswith("#")] == tags


def test_rewrite_refuses_a_non_playlist() -> None:
    with pytest.raises(hls.PlaylistError):
        hls.rewrite("<html>oops</html>", _sign)


@pytest.mark.parametrize(
    ("playlist", "uri", "expected"),
    [
        ("720p/index.m3u8", "seg_00001.ts", "720p/seg_00001.ts"),
        ("master.m3u8", "720p/index.m3u8", "720p/index.m3u8"),
        ("720p/index.m3u8", "../thumbnail.jpg", "thumbnail.jpg"),
        ("720p/index.m3u8", "seg_1.m4s?v=2", "720p/seg_1.m4s"),
        ("720p/index.m3u8", "./sub/./seg.ts", "720p/sub/seg.ts"),
    ],
)
def test_resolve(playlist: str, uri: str, expected: str) -> None:
    assert hls.resolve(playlist, uri) == expected


@pytest.mark.parametrize(
    "uri",
    ["../../etc/passwd", "../..", "/abs/seg.ts", "https://x.test/a.ts", "//x.test/a.ts", ".."],
)
def test_resolve_refuses_uris_leaving_the_output(uri: str) -> None:
    with pytest.raises(hls.PlaylistError):
        hls.resolve("720p/index.m3u8", uri)


def test_attributes_with_quoted_commas() -> None:
    line = '#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS="avc1.4d401f,mp4a.40.2",FRAME-RATE=25.000'
    assert hls.attributes(line) == {
        "BANDWIDTH": "1",
        "CODECS": "avc1.4d401f,mp4a.40.2",
        "FRAME-RATE": "25.000",
    }
