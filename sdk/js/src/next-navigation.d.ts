// The two hooks of `next/navigation` the adapter uses, so typechecking does not need the whole
// `next` package installed; `next` is an optional peer dependency at run time.
declare module "next/navigation" {
  export function usePathname(): string;
  export function useSearchParams(): URLSearchParams;
}
