// app/layout.tsx — analytics start immediately
import { Analytics } from '@traytic/analytics/next'

export default function RootLayout({ children }) {
  return (
    <html>
      <body>
        {children}
        <Analytics siteId="your_site_id" />
      </body>
    </html>
  )
}
