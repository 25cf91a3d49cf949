import { useState, type FormEvent } from 'react';

export function HomePage() {
  const [room, setRoom] = useState('');
  const valid = /^[A-Za-z0-9_-]{1,64}$/.test(room);
  const go = (e: FormEvent) => {
    e.preventDefault();
    if (valid) window.location.assign(`/room/${room}`);
  };
  return (
    <main className="page narrow">
      <h1>Confide</h1>
      <p>End-to-end encrypted video consultations.</p>
      <form onSubmit={go} className="stack">
        <label htmlFor="room">Room name</label>
        <input id="room" value={room} onChange={(e) => setRoom(e.target.value)} placeholder="e.g. dr-martin-1430" />
        <button type="submit" disabled={!valid}>
          Open room
        </button>
      </form>
    </main>
  );
}
