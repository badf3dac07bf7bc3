"""The Jinja environments of the memo and notice templates (the workspace's templates/ first,
then the bundled ones), and template failures as Chinese problems."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gkreport.core.problems import GkreportError, problem
from gkreport.render.wording import md_escape

BUNDLED_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


_HTML_SUFFIXES = (".html.j2", ".htm.j2", ".html", ".htm")


def _md_cell(value: object) -> Any:
    """Text safe inside a Markdown table cell (escaped, on one line)."""
    from markupsafe import Markup

    if isinstance(value, Markup):
        return Markup(str(value).replace("\n", " "))
    return Markup(md_escape(str(value)).replace("\n", " "))


def _finalize_md(value: object) -> object:
    """Every value a Markdown template prints, escaped (unless a filter already did)."""
    from markupsafe import Markup

    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return md_escape(value)


class Templates:
    """The templates' environments: HTML templates autoescape HTML; Markdown templates (the
    memo's .md and the notice, pasted into WeChat or OA) escape Markdown and HTML in every
    value they print, so unit text can neither link, embed nor format."""

    def __init__(self, templates: Path | None = None) -> None:
        from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

        loaders = [FileSystemLoader(str(templates))] if templates and templates.is_dir() else []
        loaders.append(FileSystemLoader(str(BUNDLED_TEMPLATES)))
        common = {"loader": ChoiceLoader(loaders), "undefined": StrictUndefined,
                  "keep_trailing_newline": True, "trim_blocks": True, "lstrip_blocks": True}
        self.html = Environment(autoescape=True, **common)
        self.text = Environment(autoescape=False, finalize=_finalize_md, **common)
        # Markdown's escaping, for Markdown only: in HTML it would be Markup that bypasses
        # autoescape (a workspace's HTML template using it would print unit text raw).
        self.text.filters["md_cell"] = _md_cell

    def get_template(self, name: str) -> Any:
        env = self.html if name.endswith(_HTML_SUFFIXES) else self.text
        return env.get_template(name)


def template_env(templates: Path | None = None) -> Templates:
    """The templates: the workspace's templates/ first, then the bundled ones."""
    return Templates(templates)


_JINJA_MESSAGES = (  # Jinja's English messages that users of a template meet, in Chinese
    (re.compile(r"^'(.+)' is undefined$"), "变量 {0} 未定义"),
    (re.compile(r"^'(.+)' has no attribute '(.+)'$"), "变量没有属性 {1}"),
    (re.compile(r"^'(.+)' object has no attribute '(.+)'$"), "变量没有属性 {1}"),
)


def _template_error(exc: Exception, name: str) -> GkreportError:
    """A Jinja failure as a Chinese problem naming the template file and line."""
    from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError

    path, line = name, None
    if isinstance(exc, TemplateSyntaxError):
        path, line = exc.filename or exc.name or name, exc.lineno
        detail = f"语法错误（{exc.message}）"
    elif isinstance(exc, TemplateNotFound):
        detail = "找不到该模板"
    else:
        # Jinja rewrites the traceback so a template's own frames carry its file and line;
        # the innermost one is where it failed (an {% include %}d template included).
        frames = [f for f in _frames(exc) if not f[0].endswith(".py") and not f[0].startswith("<")]
        if frames:
            path, line = frames[-1]
        message = str(exc)
        detail = next((chinese.format(*m.groups()) for pattern, chinese in _JINJA_MESSAGES
                       if isinstance(exc, UndefinedError) and (m := pattern.match(message))),
                      f"无法渲染（{type(exc).__name__}：{message}）")
    return GkreportError(problem("template-error", name=Path(path).name, path=path,
                                 line=line if line is not None else "?", detail=detail))


def _frames(exc: BaseException) -> list[tuple[str, int]]:
    import traceback

    return [(f.filename, f.lineno or 0) for f in traceback.extract_tb(exc.__traceback__)]


def render_template(env: Any, name: str, ctx: dict[str, Any]) -> str:
    """One template rendered; any Jinja failure becomes a GkreportError (template-error)."""
    try:
        return str(env.get_template(name).render(**ctx))
    except GkreportError:
        raise
    except Exception as exc:  # a workspace template may fail in any way: report, not crash
        raise _template_error(exc, name) from exc
