#!/usr/bin/env bash
# Prepare a fresh machine: system fonts (CJK, for building test PDFs and scans), Chromium (for the web
# workspace end-to-end test), PostgreSQL and Redis (for the tests against real servers), a virtualenv
# with every dependency, and the trained artefacts in models/.
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
STARTED=$SECONDS

if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "==> 安装中文字体 (fonts-wqy-microhei)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei fonts-wqy-zenhei >/dev/null
    else
        echo "!! 未找到中文字体，部分测试将跳过（需要 fonts-wqy-microhei）" >&2
    fi
fi

# Headless Chromium for the web workspace's end-to-end test (driven by Playwright, never downloaded by it).
if [ ! -x /usr/bin/chromium ]; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "==> 安装 Chromium 浏览器（网页工作台端到端测试使用）"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    else
        echo "!! 未找到 /usr/bin/chromium，网页端到端测试将跳过（需要 chromium）" >&2
    fi
fi

# PostgreSQL and Redis for the tests against real servers: the tests start their own servers in a
# temporary directory and never use the system services the packages may set up.
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || ! command -v redis-server >/dev/null; then
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "==> 安装 PostgreSQL 和 Redis（测试在临时目录中自行启动，不使用系统服务）"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql redis-server >/dev/null
    else
        echo "!! 未找到 PostgreSQL 或 Redis，相关测试将跳过（需要 postgresql、redis-server）" >&2
    fi
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
    echo "==> 创建虚拟环境 .venv"
    "$PY" -m venv .venv
fi
echo "==> 安装依赖（torch 固定为 CPU 版 2.13.0）"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q torch==2.13.0
.venv/bin/python -m pip install -q -e ".[test]"
echo "    依赖安装完成（已用 $((SECONDS - STARTED)) 秒）"

if [ -d corpora/checklist ] && ! .venv/bin/xuncha train --check >/dev/null 2>&1; then
    echo "==> 训练模型（首次运行需要几分钟）"
    .venv/bin/xuncha train
fi
echo "==> 准备完成，用时 $((SECONDS - STARTED)) 秒"
