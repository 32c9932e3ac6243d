"""The `imagesynth` command, end to end against the sandbox endpoint over real HTTP
(requests transport, streaming included), plus its error lines and exit codes."""

import io
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fakes import png  # noqa: E402
from serverfixture import running_server  # noqa: E402

from imagesynth import cli  # noqa: E402
from imagesynth.pngmeta import read_params  # noqa: E402


@pytest.fixture(scope="module")
def srv():
    with running_server(retry_after=0.05) as s:
        yield s


@pytest.fixture(autouse=True)
def no_ambient_credentials(monkeypatch):
    for k in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.setitem(sys.modules, "keyring", None)


def run(capsys, *argv, srv=None):
    args = list(argv)
    if srv is not None:
        args += ["--base-url", srv.api_base, "--api-key", srv.key]
    code = cli.main(args)
    out, err = capsys.readouterr()
    return code, out, err


def sizes(paths):
    from PIL import Image

    return [Image.open(p).size for p in paths]


def test_generate_writes_pngs_with_params(srv, tmp_path, capsys):
    code, out, err = run(capsys, "a Monet-like pond", "-n", "3", "--size", "small", "-o", str(tmp_path), srv=srv)
    assert code == 0, err
    paths = out.split()
    assert [Path(p).name for p in paths] == ["a-monet-like-pond-1.png", "a-monet-like-pond-2.png",
                                            "a-monet-like-pond-3.png"]
    assert sizes(paths) == [(256, 256)] * 3
    params = read_params(Path(paths[0]).read_bytes())
    assert params["prompt"] == "a Monet-like pond" and params["size"] == "256x256" and params["index"] == 0
    assert srv.key not in Path(paths[0]).read_bytes().decode("latin-1")
    assert err == ""  # no bar: stderr is not a terminal


def test_never_overwrites(srv, tmp_path, capsys):
    existing = tmp_path / "a-cat-1.png"
    existing.write_bytes(b"mine")
    code, out, _ = run(capsys, "a cat", "-o", str(tmp_path), srv=srv)
    assert code == 0 and existing.read_bytes() == b"mine"
    assert Path(out.strip()).name == "a-cat-1_2.png"


def test_json_output_and_streaming(srv, tmp_path, capsys):
    code, out, _ = run(capsys, "a lake", "-n", "2", "--size", "64x64", "--stream", "--json", "-o", str(tmp_path),
                       srv=srv)
    assert code == 0
    doc = json.loads(out)
    assert [i["index"] for i in doc["images"]] == [0, 1]
    assert all(Path(i["path"]).exists() and (i["width"], i["height"]) == (64, 64) for i in doc["images"])
    assert doc["images"][0]["params"]["model"]


def test_variations(srv, tmp_path, capsys):
    ref = tmp_path / "cat.png"
    ref.write_bytes(png((96, 64), (200, 100, 50, 255)))
    code, out, err = run(capsys, "--image", str(ref), "-n", "2", "-o", str(tmp_path / "out"), srv=srv)
    assert code == 0, err
    paths = out.split()
    assert [Path(p).name for p in paths] == ["cat-variation-1.png", "cat-variation-2.png"]
    assert read_params(Path(paths[0]).read_bytes())["task"] == "vary"


def test_inpaint_with_mask_keeps_original_size(srv, tmp_path, capsys):
    from PIL import Image

    ref, mask = tmp_path / "cat.png", tmp_path / "mask.png"
    ref.write_bytes(png((120, 80), (0, 0, 255, 255)))
    m = Image.new("L", (120, 80), 0)
    m.paste(255, (40, 20, 80, 60))
    m.save(mask)
    code, out, err = run(capsys, "a hat", "--image", str(ref), "--mask", str(mask), "-o", str(tmp_path), srv=srv)
    assert code == 0, err
    (path,) = out.split()
    img = Image.open(path).convert("RGB")
    assert img.size == (120, 80) and img.getpixel((2, 2)) == (0, 0, 255)
    assert read_params(Path(path).read_bytes())["task"] == "inpaint"


def test_retry_after_rate_limit_then_success(srv, tmp_path, capsys):
    code, out, err = run(capsys, "a fox [[sandbox:rate_limit:1]]", "-o", str(tmp_path), srv=srv)
    assert code == 0, err
    assert len(out.split()) == 1


def test_list_models(srv, capsys):
    code, out, _ = run(capsys, "--list-models", srv=srv)
    assert code == 0 and "gpt-image-1" in out.split()


# --- one line, exit code by category --------------------------------------------------------------
def one_error_line(err):
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("imagesynth: error: "), err
    assert "Traceback" not in err
    return lines[0]


def test_bad_key_exit_3_without_the_key(srv, tmp_path, capsys):
    code, _, err = run(capsys, "a pond", "-o", str(tmp_path), "--base-url", srv.api_base,
                       "--api-key", "sk-wrong-SECRET")
    assert code == 3
    assert "refused" in one_error_line(err) and "sk-wrong-SECRET" not in err


def test_no_key_anywhere_exit_3(tmp_path, capsys):
    code, _, err = run(capsys, "a pond", "-o", str(tmp_path))
    assert code == 3 and "OPENAI_API_KEY" in one_error_line(err)


def test_moderation_exit_4(srv, tmp_path, capsys):
    code, out, err = run(capsys, "a pond [[sandbox:moderation_input]]", "-o", str(tmp_path), srv=srv)
    assert code == 4 and out == ""
    one_error_line(err)


def test_partial_failure_keeps_written_images(srv, tmp_path, capsys):
    # dall-e-3 takes one image per request: the first of the three is refused, two arrive
    code, out, err = run(capsys, "a boat [[sandbox:moderation_output:1]]", "-n", "3", "--model", "dall-e-3",
                         "--concurrency", "1", "-o", str(tmp_path), srv=srv)
    assert code == 4
    one_error_line(err)
    assert len(out.split()) == 2 and all(Path(p).exists() for p in out.split())


def test_server_error_exit_5(srv, tmp_path, capsys):
    code, _, err = run(capsys, "a pond [[sandbox:server_error]]", "--retries", "0", "-o", str(tmp_path), srv=srv)
    assert code == 5
    one_error_line(err)


def test_unreachable_host_exit_5(tmp_path, capsys):
    code, _, err = run(capsys, "a pond", "--model", "gpt-image-1", "--retries", "0", "-o", str(tmp_path),
                       "--base-url", "http://127.0.0.1:9/v1", "--api-key", "sk-SECRET-x")
    assert code == 5
    line = one_error_line(err)
    assert "127.0.0.1" in line and "sk-SECRET-x" not in err


@pytest.mark.parametrize("argv, words", [
    ((), "give a prompt"),
    (("--mask", "m.png"), "--mask needs --image"),
    (("a pond", "-n", "x"), "invalid int"),
    (("a pond", "--provider", "acme"), "invalid choice"),
])
def test_usage_errors_exit_2(capsys, argv, words):
    code, _, err = run(capsys, *argv, "--api-key", "k")
    assert code == 2 and words in one_error_line(err)


def test_input_error_exit_2(srv, tmp_path, capsys):
    code, _, err = run(capsys, "a pond", "--model", "gpt-image-1", "--style", "vivid", "-o", str(tmp_path), srv=srv)
    assert code == 2 and "style" in one_error_line(err)


def test_json_error_document(srv, tmp_path, capsys):
    code, out, err = run(capsys, "a pond [[sandbox:quota]]", "--json", "-o", str(tmp_path), srv=srv)
    assert code == 4
    doc = json.loads(out)
    assert doc["images"] == [] and doc["error"]["type"] == "QuotaExceededError"
    one_error_line(err)


def test_help_exits_0(capsys):
    assert cli.main(["--help"]) == 0
    assert "--base-url" in capsys.readouterr().out


# --- subcommands --------------------------------------------------------------------------------
def test_subcommand_dispatch(monkeypatch):
    seen = {}

    class Fake:
        @staticmethod
        def main(argv):
            seen["argv"] = argv
            return 7

    import importlib

    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module",
                        lambda name, *a: Fake if name == "imagesynth.server.cli" else real(name, *a))
    assert cli.main(["serve", "--port", "0"]) == 7 and seen["argv"] == ["--port", "0"]


def test_subcommand_missing_extra(monkeypatch, capsys):
    import importlib

    def fail(name, *a):
        raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")

    monkeypatch.setattr(importlib, "import_module", fail)
    assert cli.main(["serve"]) == 3
    assert "pip install 'imagesynth[serve]'" in one_error_line(capsys.readouterr().err)


# --- helpers --------------------------------------------------------------------------------------
def test_slug():
    assert cli.slug("A cat, in a hat!") == "a-cat-in-a-hat"
    assert cli.slug("!!!") == "image"
    assert len(cli.slug("word " * 40)) <= 40


def test_progress_bar_draws_and_counts():
    from imagesynth.progress import ProgressEvent
    from imagesynth.progressbar import ProgressBar

    f = io.StringIO()
    bar = ProgressBar(2, file=f)
    bar(ProgressEvent("waiting", 0, 2))
    bar(ProgressEvent("partial", 1, 2, partial_index=0, partial_count=2))
    assert "1 waiting" in bar.summary() and "1 partial 1/2" in bar.summary()
    bar(ProgressEvent("done", 0, 2))
    bar(ProgressEvent("retrying", 1, 2, message="rate limited, retrying in 2 s"))
    assert "rate limited" in bar.summary()
    bar(ProgressEvent("done", 1, 2))
    bar.close()
    assert "2/2" in f.getvalue()


@pytest.mark.parametrize("extra", [[], ["--json"], ["--quiet"]])
def test_resized_mask_warning_is_shown(srv, tmp_path, capsys, extra):
    from PIL import Image

    ref, mask = tmp_path / "cat.png", tmp_path / "mask.png"
    ref.write_bytes(png((64, 64), (0, 0, 255, 255)))
    m = Image.new("L", (32, 32), 0)
    m.paste(255, (0, 0, 16, 16))
    m.save(mask)
    code, out, err = run(capsys, "a hat", "--image", str(ref), "--mask", str(mask), "-o", str(tmp_path),
                         *extra, srv=srv)
    assert code == 0, err
    (line,) = [ln for ln in err.splitlines() if ln.strip()]
    assert line.startswith("imagesynth: warning: ") and "32x32" in line and "64x64" in line
    if extra == ["--json"]:
        json.loads(out)  # stdout stays pure JSON


def test_partial_failure_line_says_how_many_were_saved(srv, tmp_path, capsys):
    code, out, err = run(capsys, "a kite [[sandbox:server_error:1]]", "-n", "3", "--model", "dall-e-3",
                         "--retries", "0", "-o", str(tmp_path), srv=srv)
    assert code == 5
    one_error_line(err)
    assert "1 of 3 images failed (2 saved)" in err
    paths = out.split()
    assert len(paths) == 2 and paths == sorted(paths)  # in image order, whichever arrived first


def test_progress_bar_retry_note_goes_when_the_image_moves_on():
    from imagesynth.progress import ProgressEvent
    from imagesynth.progressbar import ProgressBar

    f = io.StringIO()
    bar = ProgressBar(2, file=f)
    bar(ProgressEvent("retrying", 0, 2, message="rate limited, retrying in 2 s"))
    bar(ProgressEvent("waiting", 0, 2))
    assert "rate limited" in bar.summary()
    bar(ProgressEvent("decoding", 0, 2))
    assert "rate limited" not in bar.summary()
    bar(ProgressEvent("retrying", 1, 2, message="rate limited, retrying in 2 s"))
    bar(ProgressEvent("done", 0, 2))  # another image's news keeps the note
    assert "rate limited" in bar.summary()
    bar(ProgressEvent("done", 1, 2))
    assert "rate limited" not in bar.summary()
    bar.write("imagesynth: warning: x")
    bar.close()
    text = f.getvalue()
    assert "imagesynth: warning: x\n" in text and " , " not in text and "00:00," in text


def test_a_paste_back_that_could_not_be_made_is_a_warning_not_a_lost_image(srv, tmp_path, capsys, monkeypatch):
    """A large JPEG goes up from a smaller decode and is decoded in full after the answer: if
    that fails, the image is still written, and the warning says it was not pasted back."""
    from PIL import Image

    from imagesynth.imaging.pillow import PillowImaging

    ref, mask = tmp_path / "wide.jpg", tmp_path / "mask.png"
    Image.new("RGB", (3800, 200), (0, 0, 255)).save(ref, quality=90)
    Image.new("L", (3800, 200), 255).save(mask)
    size = ref.stat().st_size
    decode = PillowImaging.decode

    async def failing(self, data, *a, **k):
        if len(data) == size:
            raise MemoryError()
        return await decode(self, data, *a, **k)

    monkeypatch.setattr(PillowImaging, "decode", failing)
    code, out, err = run(capsys, "a hat", "--image", str(ref), "--mask", str(mask), "-o", str(tmp_path),
                         "--model", "gpt-image-1", srv=srv)
    assert code == 0, err
    (path,) = out.split()
    assert Image.open(path).size == (3800, 200)
    assert read_params(Path(path).read_bytes())["pasted_back"] is False
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "could not be decoded in full" in lines[0], err
