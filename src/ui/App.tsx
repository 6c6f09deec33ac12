export function App() {
  return (
    <main>
      <h1>DePass Studio</h1>
      <p>Drop a model folder to begin.</p>
    </main>
  );
}
