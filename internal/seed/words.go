package seed

import "strings"

// The vocabulary generated text is drawn from: words a support inbox sees, plus everyday English.
// Message words are drawn with a Zipf distribution over this list (earlier words are more common),
// so searches range from words in most conversations to words in a few.
var words = strings.Fields(`
the to and a i you it is for of my in on this that we have can with be your not please
order help thanks hi hello account issue problem question payment invoice refund delivery
package shipping update time today again still need would like could just know get when
there about what how will do does did was were are been if but or so any some all one
email phone number address name password login sign support team customer service price plan
subscription billing card charge charged week month year day days hours minutes yesterday tomorrow
morning afternoon evening soon later now already working broken error message screen page app
website mobile desktop browser download upload file attachment photo picture document report
receipt confirmation tracking code discount coupon offer sale product item size color quantity
stock available return exchange replacement damaged missing wrong late early fast slow quick
sorry great good bad fine okay sure yes no maybe thank appreciate understand explain check
look find send sent received receive reply answer contact call wait waiting waited pending
cancel cancelled cancellation change changed update updated upgrade downgrade renew renewal
trial free premium basic business enterprise team member admin owner user users access permission
settings profile notification notifications alert alerts reminder schedule meeting calendar booking
appointment reservation ticket case request feature bug crash slowdown outage downtime maintenance
integration api webhook token key secret export import sync backup restore data database server
cloud storage limit quota usage performance speed latency network connection wifi signal battery
device laptop tablet printer scanner camera headset keyboard mouse monitor cable charger adapter
warranty repair technician visit install installation setup configure configuration manual guide
tutorial documentation video training onboarding migration transfer move moved moving office
store shop warehouse courier driver route pickup dropoff parcel box label customs duty tax vat
currency euro dollar pound bank transfer paypal wallet balance credit debit statement overdue
reminder fee fees interest total subtotal amount estimate quote contract agreement terms policy
privacy security verification verify code otp twofactor locked unlock reset recover recovery
deleted delete remove removed add added create created edit edited save saved open opened close
closed resolve resolved escalate escalated urgent priority important critical minor major normal
feedback review rating survey complaint compliment suggestion idea improvement experience happy
unhappy frustrated disappointed pleased delighted confused worried concerned surprised impressed
manager supervisor colleague partner supplier vendor client reseller distributor agency
monday tuesday wednesday thursday friday saturday sunday january february march april may june
july august september october november december spring summer autumn winter holiday weekend
birthday anniversary gift voucher membership loyalty points reward rewards referral program
coffee tea breakfast lunch dinner menu table restaurant hotel room flight train bus taxi car
bike parking garage airport station luggage bag suitcase passport visa insurance claim policy
doctor clinic pharmacy prescription medicine dentist appointment insurance health fitness gym
class course lesson teacher student school university exam grade certificate diploma library
book magazine newspaper article blog post comment share like follow subscribe unsubscribe
newsletter campaign marketing advertising promotion launch release version beta stable legacy
android iphone ipad windows linux mac chrome firefox safari edge extension plugin theme template
design layout font image logo banner icon button link menu sidebar footer header form field
checkbox dropdown search filter sort list grid table chart graph dashboard analytics metrics
revenue growth conversion funnel lead prospect deal pipeline forecast quota target goal strategy
project task milestone deadline sprint backlog roadmap plan planning estimate budget cost savings
electricity gas water heating cooling boiler radiator leak pipe plumber electrician roof window
door lock key garden furniture sofa chair desk bed mattress lamp curtain carpet kitchen fridge
oven microwave dishwasher washer dryer vacuum cleaner blender toaster kettle mug plate glass
shirt trousers jeans dress skirt jacket coat shoes boots sneakers socks hat scarf gloves belt
watch ring necklace bracelet earrings sunglasses backpack wallet purse umbrella perfume cream
lipstick shampoo soap toothpaste towel blanket pillow sheets duvet candle vase frame mirror
green blue red yellow black white grey orange purple pink brown silver gold beige navy
small medium large extra double single first second third last next previous new old used
simple easy hard difficult clear unclear possible impossible correct incorrect valid invalid
expired active inactive enabled disabled visible hidden public private shared personal
friendly helpful polite rude patient kind professional reliable responsive unresponsive
amazing awesome excellent fantastic perfect wonderful terrible awful horrible poor average
quickly slowly carefully immediately eventually unfortunately hopefully actually basically
apparently certainly definitely probably possibly recently currently previously finally
also because since while until unless although though however therefore otherwise instead
before after during between through across around without within against toward among
zebra quartz juniper marmalade saffron tangerine obsidian lantern harbor meadow glacier canyon
falcon heron otter badger walrus pelican lobster oyster mackerel sardine anchovy truffle
paprika nutmeg cardamom cinnamon vanilla caramel hazelnut pistachio almond walnut cashew
espresso cappuccino macchiato frappe smoothie lemonade kombucha matcha chai latte mocha
velvet linen cotton denim leather suede wool cashmere silk satin tweed corduroy flannel
`)

// Names for people and companies.
var firstNames = strings.Fields(`Ada Alan Grace Linus Margaret Dennis Barbara Ken Frances Edsger
Radia Tim Hedy Donald Katherine John Mary Carl Annie Claude Dorothy Niklaus Sophie Bjarne Joan
Guido Evelyn James Lucia Rob Karen Brian Ida Hans Mei Yuki Omar Fatima Lars Ingrid Pablo Elena
Marco Chiara Pierre Camille Jonas Lea Noah Emma Liam Olivia Mateo Sofia Ivan Anya Ravi Priya
Kenji Hana Diego Valentina Tariq Amina Kofi Ama Sven Freya Hugo Alice Felix Clara Oscar Nina`)

var lastNames = strings.Fields(`Lovelace Turing Hopper Torvalds Hamilton Ritchie Liskov Thompson
Allen Dijkstra Perlman Berners-Lee Lamarr Knuth Johnson McCarthy Keller Sagan Easley Shannon
Vaughan Wirth Wilson Stroustrup Clarke Rossum Berezin Gosling Pike Jones Kernighan Rhodes
Muller Chen Tanaka Haddad Khan Larsen Berg Garcia Petrova Rossi Bianchi Dubois Martin Schmidt
Weber Smith Brown Lopez Silva Novak Ivanova Sharma Patel Sato Kim Moreno Diaz Aziz Mensah
Owusu Nilsson Andersen Laurent Bernard Fischer Meyer Costa Santos`)

var companyWords = strings.Fields(`Acme Globex Initech Umbrella Stark Wayne Wonka Hooli Vandelay
Soylent Cyberdyne Tyrell Aperture Gringotts Monarch Oceanic Virtucon Dunder Pied Piper Bluth
Nakatomi Prestige Sterling Cooper Massive Dynamic Paper Street Kramerica Tessier Ashpool`)

var companySuffixes = strings.Fields(`Ltd Inc GmbH SARL BV AB Oy Co Group Labs Studio Partners`)

// tags are the conversation tags a seeded installation uses.
var tags = strings.Fields(`billing refund bug feature-request vip shipping returns onboarding
urgent-followup churn-risk enterprise partner feedback security integration mobile invoice
complaint upgrade cancellation`)

// Words returns the vocabulary generated text is drawn from (for benchmarks' search terms).
func Words() []string { return append([]string(nil), words...) }

// FirstNames returns the first names of generated people and contacts.
func FirstNames() []string { return append([]string(nil), firstNames...) }
