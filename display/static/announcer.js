// Announcements, one at a time and in order: the chime, then the sentence the server built,
// spoken by the browser's Spanish voice when it has one, otherwise played as the server's
// espeak-ng audio. Nothing here speaks text the server did not send.

// A call waits at most behind this many others; a backlog beyond it is not worth hearing.
const MAX_QUEUE = 10;
// Never stuck: an announcement that has not ended after this long is given up.
const SPEECH_LIMIT_MS = 15_000;
const CHIME_LIMIT_MS = 4_000;

export function createAnnouncer({ chimeUrl, announcementUrl, volume, voice, onBlocked }) {
  const queue = [];
  let busy = false;
  const chime = new Audio(chimeUrl);
  chime.preload = "auto";
  const spoken = new Audio();
  const level = Math.max(0, Math.min(1, volume / 100));
  chime.volume = level;
  spoken.volume = level;

  function spanishVoice() {
    if (!("speechSynthesis" in window)) return null;
    const voices = window.speechSynthesis.getVoices() || [];
    const wanted = voice.toLowerCase();
    const lang = (v) => (v.lang || "").toLowerCase().replace("_", "-");
    return voices.find((v) => lang(v) === wanted)
      || voices.find((v) => lang(v).startsWith("es"))
      || null;
  }

  // Resolves when `audio` has played to its end (or failed, or took too long).
  function play(audio, limitMs) {
    return new Promise((resolve) => {
      let timer = null;
      const done = () => {
        clearTimeout(timer);
        audio.removeEventListener("ended", done);
        audio.removeEventListener("error", done);
        resolve();
      };
      audio.addEventListener("ended", done);
      audio.addEventListener("error", done);
      timer = setTimeout(done, limitMs);
      audio.currentTime = 0;
      audio.play().catch((error) => {
        if (error && error.name === "NotAllowedError") onBlocked?.();
        done();
      });
    });
  }

  function speak(text, lang, chosen) {
    return new Promise((resolve) => {
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.lang = chosen.lang || lang;
      utterance.voice = chosen;
      utterance.volume = level;
      utterance.rate = 0.9;
      const timer = setTimeout(finish, SPEECH_LIMIT_MS);
      function finish() {
        clearTimeout(timer);
        utterance.onend = utterance.onerror = null;
        resolve();
      }
      utterance.onend = finish;
      utterance.onerror = finish;
      window.speechSynthesis.speak(utterance);
    });
  }

  async function announce(call) {
    const response = await fetch(`${announcementUrl}${call.ticket_id}`, {
      headers: { Accept: "application/json" },
    });
    if (!response.ok) return;
    const announcement = await response.json();
    if (level === 0) return;
    await play(chime, CHIME_LIMIT_MS);
    const chosen = spanishVoice();
    if (chosen) {
      await speak(announcement.text, announcement.lang, chosen);
    } else {
      spoken.src = announcement.audio_url;
      await play(spoken, SPEECH_LIMIT_MS);
    }
  }

  async function drain() {
    if (busy) return;
    busy = true;
    document.body.dataset.announcing = "yes";
    try {
      while (queue.length) {
        const call = queue.shift();
        try {
          await announce(call);
        } catch (error) {
          // A network error loses this announcement, never the ones after it.
          console.info("announcement skipped", error && error.message);
        }
      }
    } finally {
      busy = false;
      document.body.dataset.announcing = "no";
    }
  }

  return {
    enqueue(call) {
      queue.push(call);
      if (queue.length > MAX_QUEUE) queue.splice(0, queue.length - MAX_QUEUE);
      drain();
    },
    // Browsers load their voices late; asking early makes them load.
    warmUp() {
      if ("speechSynthesis" in window) window.speechSynthesis.getVoices();
    },
    // After a click on "turn on sound": a user gesture unlocks audio for the page.
    unlock() {
      chime.muted = true;
      chime.play().then(() => { chime.pause(); chime.muted = false; },
        () => { chime.muted = false; });
    },
  };
}
