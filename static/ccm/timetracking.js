// Time tracking: tick the server-side timer's elapsed time once a second.
// The start comes from the server (data-started, epoch seconds) together with the server's
// clock at render (data-now), so a wrong client clock or a laptop waking from sleep still shows
// the real elapsed time. Whether a timer runs at all is the server's: htmx polls for that.
(() => {
  const pad = (n) => String(n).padStart(2, "0");

  function render(el) {
    if (el.dataset.skew === undefined) {
      el.dataset.skew = String(Number(el.dataset.now) - Date.now() / 1000);
    }
    const now = Date.now() / 1000 + Number(el.dataset.skew);
    let seconds = Math.max(0, Math.floor(now - Number(el.dataset.started)));
    const hours = Math.floor(seconds / 3600);
    seconds -= hours * 3600;
    const minutes = Math.floor(seconds / 60);
    el.textContent = `${hours}:${pad(minutes)}:${pad(seconds - minutes * 60)}`;
  }

  const tick = () => document.querySelectorAll("[data-started]").forEach(render);
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:load", tick);
  setInterval(tick, 1000);
})();
