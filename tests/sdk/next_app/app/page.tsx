import Link from "next/link";
import { Signup } from "./signup";

export default function Home() {
  return (
    <main>
      <h1>Home</h1>
      <p>A page of a site that counts its visitors with Traytic.</p>
      <Link href="/about">About</Link>
      <Signup />
    </main>
  );
}
