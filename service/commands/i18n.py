"""Chinese for the messages Click and Typer print themselves (help panels, the --help option,
usage errors such as a missing option or an invalid number).

Both libraries look their messages up through :mod:`gettext` at the time they print them; without a
Chinese catalogue they fall back to English. :func:`install` points their lookups at the table
below (English for anything not in it), and sets Typer's panel titles.
"""

from __future__ import annotations

import gettext
import importlib
import re

MESSAGES = {
    "Show this message and exit.": "显示帮助信息并退出。",
    "Usage:": "用法：",
    "Options": "选项",
    "Arguments": "参数",
    "Commands": "命令",
    "Positional arguments": "参数",
    "Error": "错误",
    "Error: {message}": "错误：{message}",
    "Aborted!": "已中止。",
    "Aborted.": "已中止。",
    "Missing argument": "缺少参数",
    "Missing option": "缺少选项",
    "Missing parameter": "缺少参数",
    "Missing {param_type}": "缺少{param_type}",
    "Missing parameter: {param_name}": "缺少参数：{param_name}",
    "Missing command.": "缺少子命令。",
    "No such option: {name}": "没有这个选项：{name}",
    "No such option {name!r}.": "没有选项 {name!r}。",
    "No such command {name!r}.": "没有命令 {name!r}。",
    "Invalid value: {message}": "取值无效：{message}",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的取值无效：{message}",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的{number_type}。",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内。",
    "{value!r} is not one of {choices}.": "{value!r} 不是可选值 {choices} 之一。",
    "{value!r} is not a valid UUID.": "{value!r} 不是有效的 UUID。",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在。",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件。",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹。",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读。",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写。",
    "Could not open file {filename!r}: {message}": "无法打开文件 {filename!r}：{message}",
    "Option {name!r} does not take a value.": "选项 {name!r} 不接受取值。",
    "Try '{command} {option}' for help.": "运行 '{command} {option}' 查看帮助。",
    "Try [blue]'{command_path} {help_option}'[/] for help.": "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。",
    "[default: {}]": "[默认：{}]",
    "[env var: {}]": "[环境变量：{}]",
    "[required]": "[必填]",
    "(deprecated) ": "（已弃用）",
    "default: {default}": "默认：{default}",
    "env var: {var}": "环境变量：{var}",
    "required": "必填",
    "file": "文件",
    "directory": "文件夹",
    "path": "路径",
    "integer": "整数",
    "float": "数字",
    "unknown error": "未知错误",
    "Choose from:\n\t{choices}": "可选：\n\t{choices}",
}
PLURALS = {
    "Got unexpected extra argument ({args})": "多余的参数（{args}）",
    "Option {name!r} requires an argument.": "选项 {name!r} 需要一个取值。",
    "Option {name!r} requires {nargs} arguments.": "选项 {name!r} 需要 {nargs} 个取值。",
    "Did you mean {possibility}?": "是否想输入 {possibility}？",
    "(Did you mean one of: {possibilities}?)": "（是否想输入其中之一：{possibilities}？）",
    "Takes {nargs} values but 1 was given.": "需要 {nargs} 个取值，但只给了 1 个。",
    "Argument {name!r} takes {nargs} values.": "参数 {name!r} 需要 {nargs} 个取值。",
}
MODULES = ("click.core", "click.decorators", "click.exceptions", "click.parser", "click.types", "click.termui",
           "click.formatting", "typer.core", "typer.main", "typer.rich_utils")
HELP_OPTION = "显示帮助信息并退出。"
# Typer ≥ 0.29 carries its own copy of Click (``typer._click``) whose messages are plain f-strings:
# those are translated by pattern when they are formatted.
TYPE_NAMES = {"argument": "参数", "option": "选项", "parameter": "参数", "int": "整数", "integer": "整数",
              "float": "数字", "bool": "布尔值", "str": "文字", "Path": "路径", "path": "路径"}
PATTERNS = [
    (re.compile(r"^Value error, (.*)$", re.S), lambda m: translate_text(m[1])),
    (re.compile(r"^(.+?)\.? ?Did you mean (.+)\?$", re.S),
     lambda m: f"{translate_text(m[1].rstrip('.'))} 是否想输入 {m[2]}？"),
    (re.compile(r"^Input should be a valid (integer|number|boolean)"),
     lambda m: {"integer": "应为整数", "number": "应为数字", "boolean": "应为 true 或 false"}[m[1]]),
    (re.compile(r"^Input should be (.+)$"), lambda m: f"应为 {m[1]}"),
    (re.compile(r"^Missing (argument|option|parameter) (.+?)\.(?: (.*))?$", re.S),
     lambda m: f"缺少{TYPE_NAMES.get(m[1], m[1])} {m[2]}。" + (f" {translate_text(m[3])}" if m[3] else "")),
    (re.compile(r"^Missing parameter: (.+)$"), lambda m: f"缺少参数：{m[1]}"),
    (re.compile(r"^Invalid value for (.+?): (.*)$", re.S), lambda m: f"{m[1]} 的取值无效：{translate_text(m[2])}"),
    (re.compile(r"^Invalid value: (.*)$", re.S), lambda m: f"取值无效：{translate_text(m[1])}"),
    (re.compile(r"^Value (.+) is not a valid (\w+)\.$"),
     lambda m: f"{m[1]} 不是有效的{TYPE_NAMES.get(m[2], m[2])}。"),
    (re.compile(r"^(.+) is not a valid (\w+)\.$"), lambda m: f"{m[1]} 不是有效的{TYPE_NAMES.get(m[2], m[2])}。"),
    (re.compile(r"^(.+) is not one of (.+)\.$"), lambda m: f"{m[1]} 不是可选值 {m[2]} 之一。"),
    (re.compile(r"^(.+) is not in the range (.+)\.$"), lambda m: f"{m[1]} 不在范围 {m[2]} 内。"),
    (re.compile(r"^No such option: (.+)$", re.S), lambda m: f"没有这个选项：{m[1]}"),
    (re.compile(r"^No such command '?(.+?)'?\.$"), lambda m: f"没有命令 {m[1]}。"),
    (re.compile(r"^Got unexpected extra arguments? \((.*)\)$", re.S), lambda m: f"多余的参数（{m[1]}）"),
    (re.compile(r"^Got unexpected extra argument\(s\) \((.*)\)$", re.S), lambda m: f"多余的参数（{m[1]}）"),
    (re.compile(r"^Option '?(.+?)'? requires an argument\.$"), lambda m: f"选项 {m[1]} 需要一个取值。"),
    (re.compile(r"^Option '?(.+?)'? requires (\d+) arguments\.$"), lambda m: f"选项 {m[1]} 需要 {m[2]} 个取值。"),
    (re.compile(r"^Option '?(.+?)'? does not take a value\.$"), lambda m: f"选项 {m[1]} 不接受取值。"),
    (re.compile(r"^Missing command\.$"), lambda m: "缺少子命令。"),
    (re.compile(r"^Could not open file (.+?): (.*)$"), lambda m: f"无法打开文件 {m[1]}：{m[2]}"),
    (re.compile(r"^\(?Did you mean (?:one of: )?(.+?)\?\)?$"), lambda m: f"是否想输入 {m[1]}？"),
]
_installed = False


def translate_text(message: str) -> str:
    """A message of the bundled Click copy in Chinese (unchanged when no pattern knows it)."""
    if message in MESSAGES:
        return MESSAGES[message]
    for pattern, replace in PATTERNS:
        match = pattern.match(message)
        if match:
            return replace(match)
    return message


def _patch_typer_click() -> None:
    try:
        decorators = importlib.import_module("typer._click.decorators")
        exceptions = importlib.import_module("typer._click.exceptions")
    except ImportError:  # Typer with the external Click: gettext covers it
        return
    original = decorators.help_option

    def help_option(param_decls):
        decorate = original(param_decls)

        def apply(command):
            command = decorate(command)
            command.params[-1].help = HELP_OPTION
            return command
        return apply

    decorators.help_option = help_option
    for name in dir(exceptions):
        cls = getattr(exceptions, name)
        if isinstance(cls, type) and issubclass(cls, Exception) and "format_message" in vars(cls):
            def format_message(self, _original=vars(cls)["format_message"]):
                return translate_text(_original(self))
            cls.format_message = format_message


def translate(message: str) -> str:
    return MESSAGES.get(message) or gettext.gettext(message)


def translate_plural(singular: str, plural: str, count: int) -> str:
    chosen = singular if count == 1 else plural
    return PLURALS.get(chosen) or PLURALS.get(singular) or gettext.ngettext(singular, plural, count)


def install() -> None:
    """Make Click and Typer print their own messages in Chinese (idempotent)."""
    global _installed
    if _installed:
        return
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:  # a version without this module
            continue
        if hasattr(module, "_"):
            module._ = translate
        if hasattr(module, "ngettext"):
            module.ngettext = translate_plural
    from typer import rich_utils

    for constant in ("DEPRECATED_STRING", "DEFAULT_STRING", "ENVVAR_STRING", "REQUIRED_LONG_STRING",
                     "ARGUMENTS_PANEL_TITLE", "OPTIONS_PANEL_TITLE", "COMMANDS_PANEL_TITLE", "ERRORS_PANEL_TITLE",
                     "ABORTED_TEXT", "RICH_HELP"):
        value = getattr(rich_utils, constant, None)
        if isinstance(value, str):
            setattr(rich_utils, constant, MESSAGES.get(value, value))
    _patch_typer_click()
    _installed = True
