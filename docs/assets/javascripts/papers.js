// Client-side filtering of the all-papers table (papers.md). Runs only where the table exists.
(function () {
  function setup() {
    const table = document.getElementById("gl-papers");
    if (!table || table.dataset.ready) return;
    table.dataset.ready = "1";
    const rows = Array.from(table.tBodies[0].rows);
    const get = (id) => document.getElementById(id);
    const text = get("gl-text"), section = get("gl-section"), venue = get("gl-venue");
    const yearMin = get("gl-year-min"), yearMax = get("gl-year-max"), hasCode = get("gl-has-code");
    const count = get("gl-count");

    function apply() {
      const words = text.value.toLowerCase().split(/\s+/).filter(Boolean);
      const lo = parseInt(yearMin.value, 10), hi = parseInt(yearMax.value, 10);
      // Entries of unknown year stay visible until the range is narrowed.
      const yearActive = lo > parseInt(yearMin.min, 10) || hi < parseInt(yearMax.max, 10);
      let shown = 0;
      for (const row of rows) {
        const d = row.dataset;
        const year = parseInt(d.year, 10);
        const visible =
          words.every((w) => d.text.includes(w)) &&
          (!section.value || d.sections.split(" ").includes(section.value)) &&
          (!venue.value || d.venue === venue.value) &&
          (!yearActive || (!isNaN(year) && !(year < lo) && !(year > hi))) &&
          (!hasCode.checked || d.code === "1");
        row.hidden = !visible;
        if (visible) shown++;
      }
      count.textContent = shown + " of " + rows.length + " entries";
    }

    for (const el of [text, section, venue, yearMin, yearMax, hasCode]) {
      el.addEventListener("input", apply);
      el.addEventListener("change", apply);
    }
    const params = new URLSearchParams(window.location.search);
    if (params.get("q")) text.value = params.get("q");
    if (params.get("section")) section.value = params.get("section");
    apply();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
