import { api } from "../api.js";
import { messageOf } from "../dom.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");
const submit = document.getElementById("login-submit");

function showError(text) {
  error.textContent = text;
  error.hidden = !text;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username || !password) {
    showError("请填写用户名和密码");
    return;
  }
  showError("");
  submit.disabled = true;
  submit.textContent = "正在登录…";
  try {
    await api("/api/auth/login", { method: "POST", json: { username, password }, redirect401: false });
    const next = form.dataset.next || "/";
    location.assign(/^\/(?![\/\\])[^\s\\]*$/.test(next) ? next : "/");
  } catch (failure) {
    showError(messageOf(failure));
    form.password.select();
    submit.disabled = false;
    submit.textContent = "登录";
  }
});
