// benchFetch(url): fetch a PNG, make a blob URL, show it in an <img>, wait until decoded.
// Returns {responseEnd, shown} on the page's performance.now() clock; responseEnd is the
// Resource Timing "last byte received" of that fetch.
window.benchFetch = async function (url) {
  const u = new URL(url, location.href).href;
  const resp = await fetch(u, { cache: "no-store" });
  const blob = await resp.blob();
  const img = document.createElement("img");
  img.src = URL.createObjectURL(blob);
  img.width = 256; img.height = 256;
  const li = document.createElement("li");
  li.appendChild(img);
  document.getElementById("gallery").prepend(li);
  await img.decode();
  const shown = performance.now();
  const entries = performance.getEntriesByName(u, "resource");
  const last = entries[entries.length - 1];
  return { responseEnd: last ? last.responseEnd : NaN, shown, bytes: blob.size };
};
