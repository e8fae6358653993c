// The part of happy-dom's window API the tests use to move the page to another URL.
export {};
declare global {
  interface Window {
    happyDOM: { setURL(url: string): void };
  }
}
