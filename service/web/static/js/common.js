// Loaded on every page: the logout button in the header.
import { api } from "./api.js";

const logout = document.getElementById("logout");
if (logout) {
  logout.addEventListener("click", async () => {
    logout.disabled = true;
    try {
      await api("/api/auth/logout", { method: "POST", redirect401: false });
    } catch {
      // Already logged out or the server is unreachable: the login page says which.
    }
    location.assign("/login");
  });
}
