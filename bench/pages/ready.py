# The whole Python of bench/pages/pyscript.html: say ready, as the app's main.py does.
from pyscript import document

document.body.setAttribute("data-ready", "1")
document.getElementById("status").textContent = "ready"
